#pragma once
// A site's DKIM keys: GET/POST /api/v1/sites/{site}/mail/dkim, GET/PATCH/DELETE
// /api/v1/sites/{site}/mail/dkim/{id}. Keys sign as the site's domains: only admins see and manage them (404
// for a site out of reach before 403). The private key is never returned.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class MailDkimService;

struct DkimRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
  std::vector<web::Middleware> admin;        // after site_access: 403 unless admin
};

void RegisterDkimRoutes(web::Router& router, MailDkimService& service, DkimRouteGuards guards);

}  // namespace poste::mail
