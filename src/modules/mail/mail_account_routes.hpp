#pragma once
// A site's mail accounts: GET/POST /api/v1/sites/{site}/mail/accounts, GET/PATCH/DELETE
// /api/v1/sites/{site}/mail/accounts/{id} and POST .../accounts/{id}/test. Accounts are site configuration
// holding credentials: the site's editors list and read them (secrets never shown), admins manage them.
// Permission middleware comes from the app; each list is applied in order, outermost first.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class MailAccountsService;

struct AccountRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
  std::vector<web::Middleware> admin;        // after site_access: 403 unless admin
};

void RegisterAccountRoutes(web::Router& router, MailAccountsService& service, AccountRouteGuards guards);

}  // namespace poste::mail
