#include "modules/mail/mail_account_routes.hpp"

#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/mail/mail_account_json.hpp"
#include "modules/mail/mail_account_service.hpp"

namespace poste::mail {

namespace {

using web::Concat;
using web::Dump;
using web::ObjectBody;
using web::PathId;
using web::SiteId;

// {"email", "name"} of the account's From; either may be absent in a PATCH.
void ReadFrom(const nlohmann::json& body, std::optional<std::string>& email, std::optional<std::string>& name,
              std::vector<FieldError>& errors) {
  auto from = json_field::Object(body, "from", errors);
  if (!from) return;
  json_field::OnlyKnown(*from, {"email", "name"}, errors, "from.");
  email = json_field::String(*from, "email", errors, "from.");
  name = json_field::String(*from, "name", errors, "from.");
}

const std::vector<std::string> kFields = {"name", "type", "from", "settings", "is_default", "limits"};

std::string Location(std::int64_t site_id, std::int64_t id) {
  return "/api/v1/sites/" + std::to_string(site_id) + "/mail/accounts/" + std::to_string(id);
}

}  // namespace

void RegisterAccountRoutes(web::Router& router, MailAccountsService& service, AccountRouteGuards guards) {
  auto api = router.Group("/api/v1");
  const auto site = Concat(guards.user, guards.site_access);
  const auto manage = Concat(site, guards.admin);  // 404 for a site out of reach before 403

  api.Get(
      "/sites/{site}/mail/accounts",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto accounts = co_await blocking([&] { return service.List(site_id); });
        co_return web::Response::Json(
            200, Dump(web::PageJson(
                     accounts, [](const auto& a) { return ToJson(a); }, std::optional<std::int64_t>())));
      },
      {}, site);

  api.Post(
      "/sites/{site}/mail/accounts",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto body = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        json_field::OnlyKnown(body, kFields, errors);
        NewAccount request;
        request.name = json_field::String(body, "name", errors).value_or("");
        request.type = json_field::String(body, "type", errors).value_or("");
        std::optional<std::string> email, name;
        ReadFrom(body, email, name, errors);
        request.from = {name.value_or(""), email.value_or("")};
        request.settings = json_field::Object(body, "settings", errors).value_or(nlohmann::json::object());
        request.is_default = json_field::Bool(body, "is_default", errors).value_or(false);
        if (auto limits = json_field::Object(body, "limits", errors)) request.limits = ParseLimits(*limits, errors);
        ThrowIfAny(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto created = co_await blocking([&] { return service.Create(origin, site_id, request); });
        auto response = web::Response::Json(201, Dump(ToJson(created)));
        response.headers.Set("Location", Location(site_id, created.id));
        co_return response;
      },
      {}, manage);

  api.Get(
      "/sites/{site}/mail/accounts/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "mail account");
        auto found = co_await blocking([&] { return service.Get(site_id, id); });
        co_return web::Response::Json(200, Dump(ToJson(found)));
      },
      {}, site);

  api.Patch(
      "/sites/{site}/mail/accounts/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "mail account");
        auto body = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        json_field::OnlyKnown(body, kFields, errors);
        AccountPatch patch;
        patch.name = json_field::String(body, "name", errors);
        patch.type = json_field::String(body, "type", errors);
        ReadFrom(body, patch.from_email, patch.from_name, errors);
        patch.settings = json_field::Object(body, "settings", errors);
        patch.is_default = json_field::Bool(body, "is_default", errors);
        if (auto limits = json_field::Object(body, "limits", errors)) patch.limits = ParseLimits(*limits, errors);
        ThrowIfAny(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto updated = co_await blocking([&] { return service.Update(origin, site_id, id, patch); });
        co_return web::Response::Json(200, Dump(ToJson(updated)));
      },
      {}, manage);

  api.Delete(
      "/sites/{site}/mail/accounts/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "mail account");
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Delete(origin, site_id, id); });
        co_return web::Response::Empty(204);
      },
      {}, manage);

  api.Post(
      "/sites/{site}/mail/accounts/{id}/test",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "mail account");
        auto origin = audit::OriginOf(ctx);
        auto result = co_await blocking([&] { return service.Test(origin, site_id, id); });
        const char* outcome = result.outcome == DeliveryOutcome::kSent        ? "ok"
                              : result.outcome == DeliveryOutcome::kTemporary ? "temporary_failure"
                                                                              : "permanent_failure";
        co_return web::Response::Json(
            200,
            Dump({{"ok", result.outcome == DeliveryOutcome::kSent}, {"outcome", outcome}, {"answer", result.answer}}));
      },
      {}, manage);
}

}  // namespace poste::mail
