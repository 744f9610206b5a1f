#include "modules/seo/seo_routes.hpp"

#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/json_body.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/seo/seo_service.hpp"

namespace poste::seo {

namespace {

using web::Dump;
using web::ObjectBody;
using web::SiteId;

// The stored fields, then whether they exist, their warnings and the resolved result.
nlohmann::json ViewJson(const PageView& view) {
  auto j = ToJson(view.stored);
  j["exists"] = view.exists;
  if (!view.exists) j["created_at"] = nullptr, j["updated_at"] = nullptr;
  j["warnings"] = WarningsJson(view.warnings);
  j["resolved"] = ToJson(view.resolved);
  return j;
}

}  // namespace

void RegisterRoutes(web::Router& router, SeoService& service, SeoRouteGuards guards) {
  auto site = guards.user;
  site.insert(site.end(), guards.site_access.begin(), guards.site_access.end());
  auto api = router.Group("/api/v1/sites/{site}", site);

  api.Get("/seo", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto site_id = SiteId(ctx);
    auto views = co_await blocking([&] { return service.List(site_id); });
    co_return web::Response::Json(200, Dump({{"items", web::ItemsJson(views, ViewJson)}}));
  });

  api.Get("/seo/{page}", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto site_id = SiteId(ctx);
    const std::string page = ctx.Param("page");
    auto view = co_await blocking([&] { return service.Get(site_id, page); });
    co_return web::Response::Json(200, Dump(ViewJson(view)));
  });

  api.Put("/seo/{page}", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto site_id = SiteId(ctx);
    const std::string page = ctx.Param("page");
    if (!ParsePageKey(page)) throw BadPageKey();
    std::vector<FieldError> errors;
    auto input = PageSeoFromJson(ObjectBody(ctx.request), errors);
    if (!errors.empty()) throw AppError::Validation(std::move(errors));
    auto origin = audit::OriginOf(ctx);
    auto view = co_await blocking([&] { return service.Put(origin, site_id, page, std::move(input)); });
    co_return web::Response::Json(200, Dump(ViewJson(view)));
  });

  api.Delete("/seo/{page}", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto site_id = SiteId(ctx);
    const std::string page = ctx.Param("page");
    auto origin = audit::OriginOf(ctx);
    co_await blocking([&] { service.Delete(origin, site_id, page); });
    co_return web::Response::Empty(204);
  });

  api.Get("/seo-defaults", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto site_id = SiteId(ctx);
    auto defaults = co_await blocking([&] { return service.GetDefaults(site_id); });
    auto j = ToJson(defaults);
    j["warnings"] = WarningsJson(Warnings(defaults));
    co_return web::Response::Json(200, Dump(j));
  });

  api.Put("/seo-defaults", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto site_id = SiteId(ctx);
    std::vector<FieldError> errors;
    auto input = DefaultsFromJson(ObjectBody(ctx.request), errors);
    if (!errors.empty()) throw AppError::Validation(std::move(errors));
    auto origin = audit::OriginOf(ctx);
    std::vector<FieldError> warnings;
    auto stored = co_await blocking([&] { return service.PutDefaults(origin, site_id, input, warnings); });
    auto j = ToJson(stored);
    j["warnings"] = WarningsJson(warnings);
    co_return web::Response::Json(200, Dump(j));
  });
}

}  // namespace poste::seo
