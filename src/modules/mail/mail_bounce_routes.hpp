#pragma once
// A site's bounces: GET /api/v1/sites/{site}/mail/bounces (the site's editors); its bounce mailbox
// (GET / PUT / DELETE .../mail/bounces/mailbox) and its providers' event endpoints
// (.../mail/bounces/endpoints[/{id}[/rotate]]), admins only.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class MailBouncesService;
class ProviderEventsService;

struct BounceRouteGuards {
  std::vector<web::Middleware> site;    // signed in + site access
  std::vector<web::Middleware> manage;  // signed in + site access + admin
};

void RegisterBounceRoutes(web::Router& router, MailBouncesService& bounces, ProviderEventsService& events,
                          const BounceRouteGuards& guards);

}  // namespace poste::mail
