#pragma once
// GET/POST /api/v1/sites, GET/PATCH/DELETE /api/v1/sites/{site}, and the site's settings:
// GET /api/v1/sites/{site}/settings, PUT/DELETE /api/v1/sites/{site}/settings/{key}.
// Permission middleware comes from the app (the auth module's guard); each list is applied in order,
// outermost first. site_access resolves {site} (an id or a slug) into ctx.site_id, or answers 404 when the
// site does not exist or the caller may not access it.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::sites {

class SitesService;

struct SitesRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> admin;        // after user: 403 unless an admin
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
};

void RegisterRoutes(web::Router& router, SitesService& service, SitesRouteGuards guards);

}  // namespace poste::sites
