#include "modules/webhooks/webhooks_routes.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/json_body.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/webhooks/webhooks_service.hpp"

namespace poste::webhooks {

namespace {

using web::Concat;
using web::Dump;
using web::ObjectBody;
using web::PathId;
using web::SiteId;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

// Typed field readers: a wrong type is a 422 on the field; absent or null gives nullopt.
std::optional<std::string> String(const nlohmann::json& j, const char* name, std::vector<FieldError>& errors) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return errors.push_back({name, "invalid_type", "must be a string"}), std::nullopt;
  return it->get<std::string>();
}
std::optional<bool> Bool(const nlohmann::json& j, const char* name, std::vector<FieldError>& errors) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return errors.push_back({name, "invalid_type", "must be a boolean"}), std::nullopt;
  return it->get<bool>();
}
std::optional<std::vector<std::string>> Strings(const nlohmann::json& j, const char* name,
                                                std::vector<FieldError>& errors) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return std::nullopt;
  std::vector<std::string> out;
  if (it->is_array()) {
    for (const auto& v : *it) {
      if (!v.is_string()) break;
      out.push_back(v.get<std::string>());
    }
    if (out.size() == it->size()) return out;
  }
  errors.push_back({name, "invalid_type", "must be an array of strings"});
  return std::nullopt;
}

void ThrowIfAny(std::vector<FieldError>& errors) {
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
}

}  // namespace

void RegisterRoutes(web::Router& router, WebhooksService& service, WebhooksRouteGuards guards) {
  auto api = router.Group("/api/v1");
  const auto site = Concat(guards.user, guards.site_access);

  api.Get(
      "/sites/{site}/webhooks",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto subs = co_await blocking([&] { return service.List(site_id); });
        co_return web::Response::Json(
            200, Dump(web::PageJson(
                     subs, [](const auto& x) { return ToJson(x); }, std::optional<std::int64_t>())));
      },
      {}, site);

  api.Post(
      "/sites/{site}/webhooks",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto json = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        NewSubscription request;
        request.url = String(json, "url", errors).value_or("");
        request.events = Strings(json, "events", errors).value_or(std::vector<std::string>{});
        request.secret = String(json, "secret", errors);
        request.active = Bool(json, "active", errors).value_or(true);
        ThrowIfAny(errors);
        auto origin = audit::OriginOf(ctx);
        auto created = co_await blocking([&] { return service.Create(origin, site_id, request); });
        auto body = ToJson(created.subscription);
        body["secret"] = created.secret;  // the only time it is shown
        auto response = web::Response::Json(201, Dump(body));
        response.headers.Set("Location", "/api/v1/sites/" + std::to_string(site_id) + "/webhooks/" +
                                             std::to_string(created.subscription.id));
        response.headers.Set("Cache-Control", "no-store");
        co_return response;
      },
      {}, site);

  api.Get(
      "/sites/{site}/webhooks/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "webhook");
        auto found = co_await blocking([&] { return service.Get(site_id, id); });
        co_return web::Response::Json(200, Dump(ToJson(found)));
      },
      {}, site);

  api.Patch(
      "/sites/{site}/webhooks/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "webhook");
        auto json = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        SubscriptionPatch patch;
        patch.url = String(json, "url", errors);
        patch.events = Strings(json, "events", errors);
        patch.secret = String(json, "secret", errors);
        patch.active = Bool(json, "active", errors);
        ThrowIfAny(errors);
        auto origin = audit::OriginOf(ctx);
        auto updated = co_await blocking([&] { return service.Update(origin, site_id, id, patch); });
        co_return web::Response::Json(200, Dump(ToJson(updated)));
      },
      {}, site);

  api.Delete(
      "/sites/{site}/webhooks/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "webhook");
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Delete(origin, site_id, id); });
        co_return web::Response::Empty(204);
      },
      {}, site);

  api.Get(
      "/sites/{site}/webhooks/{id}/deliveries",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "webhook");
        const int limit = static_cast<int>(audit::QueryInt(ctx.request, "limit", 1, kMaxListLimit).value_or(20));
        const auto cursor = audit::QueryInt(ctx.request, "cursor", 1, kMaxId);
        auto page = co_await blocking([&] { return service.Deliveries(site_id, id, limit, cursor); });
        co_return web::Response::Json(200, Dump(web::PageJson(
                                               page.items, [](const auto& x) { return ToJson(x); }, page.next_cursor)));
      },
      {}, site);

  api.Post(
      "/sites/{site}/webhooks/{id}/deliveries/{delivery}/redeliver",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "webhook");
        const auto delivery_id = PathId(ctx, "delivery", "delivery");
        auto origin = audit::OriginOf(ctx);
        auto delivery = co_await blocking([&] { return service.Redeliver(origin, site_id, id, delivery_id); });
        co_return web::Response::Json(202, Dump(ToJson(delivery)));
      },
      {}, site);

  api.Post(
      "/sites/{site}/webhooks/{id}/test",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "webhook");
        auto origin = audit::OriginOf(ctx);
        auto delivery = co_await blocking([&] { return service.Ping(origin, site_id, id); });
        co_return web::Response::Json(202, Dump(ToJson(delivery)));
      },
      {}, site);
}

}  // namespace poste::webhooks
