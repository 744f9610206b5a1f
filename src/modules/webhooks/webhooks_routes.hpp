#pragma once
// A site's webhooks: GET/POST /api/v1/sites/{site}/webhooks, GET/PATCH/DELETE
// /api/v1/sites/{site}/webhooks/{id}, GET .../webhooks/{id}/deliveries,
// POST .../webhooks/{id}/deliveries/{delivery}/redeliver and POST .../webhooks/{id}/test.
// Permission middleware comes from the app; each list is applied in order, outermost first.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::webhooks {

class WebhooksService;

struct WebhooksRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
};

void RegisterRoutes(web::Router& router, WebhooksService& service, WebhooksRouteGuards guards);

}  // namespace poste::webhooks
