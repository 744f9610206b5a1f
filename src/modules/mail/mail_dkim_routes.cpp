#include "modules/mail/mail_dkim_routes.hpp"

#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/mail/address.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/mail/mail_account_json.hpp"
#include "modules/mail/mail_dkim_service.hpp"

namespace poste::mail {

namespace {

using web::Concat;
using web::Dump;
using web::ObjectBody;
using web::PathId;
using web::SiteId;

// The JSON object of a request no larger than kDkimBodyLimit (413 beyond: the limit is checked here too, for
// callers that do not come through the HTTP listener's own limit).
nlohmann::json SmallBody(const web::Request& request) {
  if (request.body.size() > kDkimBodyLimit) {
    throw AppError(ErrorCode::kPayloadTooLarge, "The request body is too large.", {},
                   {{"body", "too_large", "at most " + std::to_string(kDkimBodyLimit) + " bytes"}});
  }
  return ObjectBody(request);
}

std::string Location(std::int64_t site_id, std::int64_t id) {
  return "/api/v1/sites/" + std::to_string(site_id) + "/mail/dkim/" + std::to_string(id);
}

}  // namespace

void RegisterDkimRoutes(web::Router& router, MailDkimService& service, DkimRouteGuards guards) {
  auto api = router.Group("/api/v1/sites/{site}/mail");
  const auto manage = Concat(Concat(guards.user, guards.site_access), guards.admin);
  web::RouteOptions options;
  options.body_limit = kDkimBodyLimit;

  api.Get(
      "/dkim",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto keys = co_await blocking([&] { return service.List(site_id); });
        co_return web::Response::Json(
            200, Dump(web::PageJson(
                     keys, [](const auto& k) { return ToJson(k); }, std::optional<std::int64_t>())));
      },
      {}, manage);

  api.Post(
      "/dkim",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto body = SmallBody(ctx.request);
        std::vector<FieldError> errors;
        auto input = DkimKeyInputFromJson(body, errors);
        ThrowIfAny(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto created = co_await blocking([&] { return service.Generate(origin, site_id, input); });
        auto response = web::Response::Json(201, Dump(ToJson(created)));
        response.headers.Set("Location", Location(site_id, created.id));
        co_return response;
      },
      options, manage);

  api.Get(
      "/dkim/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "DKIM key");
        auto found = co_await blocking([&] { return service.Get(site_id, id); });
        co_return web::Response::Json(200, Dump(ToJson(found)));
      },
      {}, manage);

  api.Patch(
      "/dkim/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "DKIM key");
        auto body = SmallBody(ctx.request);
        std::vector<FieldError> errors;
        json_field::OnlyKnown(body, {"enabled"}, errors);
        auto enabled = json_field::Bool(body, "enabled", errors);
        if (!enabled && errors.empty()) errors.push_back({"enabled", "required", "is required"});
        ThrowIfAny(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto updated = co_await blocking([&] { return service.SetEnabled(origin, site_id, id, *enabled); });
        co_return web::Response::Json(200, Dump(ToJson(updated)));
      },
      options, manage);

  api.Delete(
      "/dkim/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "DKIM key");
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Delete(origin, site_id, id); });
        co_return web::Response::Empty(204);
      },
      {}, manage);
}

}  // namespace poste::mail
