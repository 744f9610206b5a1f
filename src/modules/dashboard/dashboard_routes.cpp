#include "modules/dashboard/dashboard_routes.hpp"

#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "modules/dashboard/dashboard_service.hpp"

namespace poste::dashboard {

void RegisterRoutes(web::Router& router, db::Database& db, DashboardRouteGuards guards) {
  auto chain = guards.user;
  chain.insert(chain.end(), guards.site_access.begin(), guards.site_access.end());
  router.Group("/api/v1/sites/{site}", chain)
      .Get("/dashboard", [&db](web::RequestContext& ctx) -> web::Task<web::Response> {
        if (ctx.site_id <= 0) throw AppError::Internal("dashboard reached without the site-access middleware");
        const auto site_id = ctx.site_id;
        auto summary = co_await blocking([&] { return Summary(db, site_id); });
        co_return web::Response::Json(200, summary.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      });
}

}  // namespace poste::dashboard
