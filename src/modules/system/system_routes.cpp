#include "modules/system/system_routes.hpp"

#include "db/database.hpp"
#include "db/migrations.hpp"
#include "lib/async/blocking.hpp"
#include "lib/cache/ready_cache.hpp"
#include "lib/cache/ready_response.hpp"
#include "lib/embedded.hpp"
#include "lib/error.hpp"
#include "lib/metrics/metrics.hpp"

namespace poste::system {

namespace {

std::string_view OpenApiJson() {
  for (const auto& file : embedded::OpenApi()) {
    if (file.path == "openapi.json") return file.bytes;
  }
  return "{}";
}

}  // namespace

void RegisterRoutes(web::Router& router, SystemDeps deps) {
  auto root = router.Root();

  root.Get("/healthz", [](web::RequestContext&) -> web::Task<web::Response> {
    co_return web::Response::Json(200, R"({"status":"ok"})");
  });

  root.Get("/readyz", [&db = deps.database](web::RequestContext&) -> web::Task<web::Response> {
    bool ready = co_await blocking([&db] { return db.Ping() && db::State(db).pending == 0; });
    if (!ready) throw AppError::Unavailable("The database is unreachable or not fully migrated.");
    co_return web::Response::Json(200, R"({"status":"ready"})");
  });

  root.Get("/metrics",
           [&registry = deps.metrics, refresh = deps.before_scrape](web::RequestContext&) -> web::Task<web::Response> {
             if (refresh) co_await blocking(refresh);
             co_return web::Response::Text(200, registry.Render(), "text/plain; version=0.0.4; charset=utf-8");
           });

  // A constant answer: its ETag and gzip variant made once, its bytes sent without a copy.
  auto openapi = cache::MakeReadyEntry(0, "application/json", std::string(OpenApiJson()));
  root.Get("/api/v1/openapi.json", [openapi](web::RequestContext& ctx) -> web::Task<web::Response> {
    co_return cache::ServeReady(ctx.request, openapi);
  });
}

}  // namespace poste::system
