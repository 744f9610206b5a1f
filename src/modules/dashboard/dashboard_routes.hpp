#pragma once
// GET /api/v1/sites/{site}/dashboard, for the site's editors and the admins (dashboard_service.hpp).
#include <vector>

#include "lib/web/router.hpp"

namespace poste::db {
class Database;
}

namespace poste::dashboard {

struct DashboardRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
};

void RegisterRoutes(web::Router& router, db::Database& db, DashboardRouteGuards guards);

}  // namespace poste::dashboard
