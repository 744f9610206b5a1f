#include "modules/mail/mail_bounce_routes.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/mail/mail_bounce_service.hpp"
#include "modules/mail/provider_events_service.hpp"

namespace poste::mail {

namespace {

using web::Dump;
using web::PathId;
using web::SiteId;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

const web::Principal& Caller(const web::RequestContext& ctx) {
  if (!ctx.principal) throw AppError(ErrorCode::kUnauthorized, "Sign in first.");
  return *ctx.principal;
}

BounceFilter ParseFilter(const web::Request& r) {
  BounceFilter f;
  if (auto kind = r.QueryParam("kind")) {
    f.kind = ParseBounceKind(*kind);
    if (!f.kind) {
      throw AppError::BadRequest("The query parameter kind is invalid.",
                                 {{"kind", "invalid", "one of hard, soft, complaint"}});
    }
  }
  f.campaign_id = audit::QueryInt(r, "campaign_id", 1, kMaxId);
  f.limit = static_cast<int>(audit::QueryInt(r, "limit", 1, kMaxBounceListLimit).value_or(50));
  f.cursor = audit::QueryInt(r, "cursor", 1, kMaxId);
  return f;
}

nlohmann::json Body(const web::Request& request) {
  if (request.body.size() > kProviderEndpointBodyLimit) {
    throw AppError(ErrorCode::kPayloadTooLarge, "The request body is too large.", {},
                   {{"body", "too_large", "at most " + std::to_string(kProviderEndpointBodyLimit) + " bytes"}});
  }
  return web::ObjectBody(request);
}

nlohmann::json CreatedJson(const ProviderEndpointCreated& created) {
  auto json = ToJson(created.endpoint);
  json["token"] = created.token;
  json["path"] = created.path;
  return json;
}

}  // namespace

void RegisterBounceRoutes(web::Router& router, MailBouncesService& bounces, ProviderEventsService& events,
                          const BounceRouteGuards& guards) {
  auto api = router.Group("/api/v1/sites/{site}/mail");
  web::RouteOptions options;
  options.body_limit = kProviderEndpointBodyLimit;

  api.Get(
      "/bounces",
      [&bounces](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto filter = ParseFilter(ctx.request);
        auto page = co_await blocking([&] { return bounces.List(site_id, filter); });
        co_return web::Response::Json(200, Dump(web::PageJson(
                                               page.items, [](const auto& b) { return ToJson(b); }, page.next_cursor)));
      },
      {}, guards.site);

  api.Get(
      "/bounces/mailbox",
      [&bounces](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto mailbox = co_await blocking([&] { return bounces.GetMailbox(site_id); });
        co_return web::Response::Json(200, Dump(ToJson(mailbox)));
      },
      {}, guards.manage);

  api.Put(
      "/bounces/mailbox",
      [&bounces](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto body = Body(ctx.request);
        std::vector<FieldError> errors;
        std::int64_t account_id = 0;
        for (const auto& [key, value] : body.items()) {
          if (key != "inbox_account_id") {
            errors.push_back({key, "unknown", "is not a field of the bounce mailbox"});
          } else if (!value.is_number_integer() || value.get<std::int64_t>() < 1) {
            errors.push_back({key, "invalid_type", "must be a positive integer"});
          } else {
            account_id = value.get<std::int64_t>();
          }
        }
        if (account_id == 0 && errors.empty()) errors.push_back({"inbox_account_id", "required", "is required"});
        if (!errors.empty()) throw AppError::Validation(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        const auto caller = Caller(ctx);
        auto mailbox = co_await blocking([&] { return bounces.PutMailbox(origin, caller, site_id, account_id); });
        co_return web::Response::Json(200, Dump(ToJson(mailbox)));
      },
      options, guards.manage);

  api.Delete(
      "/bounces/mailbox",
      [&bounces](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { bounces.DeleteMailbox(origin, site_id); });
        co_return web::Response::Empty(204);
      },
      {}, guards.manage);

  api.Get(
      "/bounces/endpoints",
      [&events](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto list = co_await blocking([&] { return events.List(site_id); });
        co_return web::Response::Json(
            200, Dump(web::PageJson(
                     list, [](const auto& e) { return ToJson(e); }, std::optional<std::int64_t>())));
      },
      {}, guards.manage);

  api.Post(
      "/bounces/endpoints",
      [&events](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto body = Body(ctx.request);
        std::vector<FieldError> errors;
        auto input = ProviderEndpointInputFromJson(body, true, errors);
        if (!errors.empty()) throw AppError::Validation(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto created = co_await blocking([&] { return events.Create(origin, site_id, input); });
        auto response = web::Response::Json(201, Dump(CreatedJson(created)));
        response.headers.Set("Cache-Control", "no-store");
        co_return response;
      },
      options, guards.manage);

  api.Patch(
      "/bounces/endpoints/{id}",
      [&events](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "event endpoint");
        auto body = Body(ctx.request);
        std::vector<FieldError> errors;
        auto input = ProviderEndpointInputFromJson(body, false, errors);
        if (!errors.empty()) throw AppError::Validation(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto updated = co_await blocking([&] { return events.Update(origin, site_id, id, input); });
        co_return web::Response::Json(200, Dump(ToJson(updated)));
      },
      options, guards.manage);

  api.Delete(
      "/bounces/endpoints/{id}",
      [&events](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "event endpoint");
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { events.Delete(origin, site_id, id); });
        co_return web::Response::Empty(204);
      },
      {}, guards.manage);

  api.Post(
      "/bounces/endpoints/{id}/rotate",
      [&events](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "event endpoint");
        auto origin = audit::OriginOf(ctx);
        auto created = co_await blocking([&] { return events.Rotate(origin, site_id, id); });
        auto response = web::Response::Json(200, Dump(CreatedJson(created)));
        response.headers.Set("Cache-Control", "no-store");
        co_return response;
      },
      {}, guards.manage);
}

}  // namespace poste::mail
