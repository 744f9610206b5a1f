#include "modules/mail/mail_template_routes.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/mail/mail_template_service.hpp"

namespace poste::mail {

namespace {

using web::Dump;
using web::ObjectBody;
using web::PathId;
using web::SiteId;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t kMaxQueryChars = 200;

// The server enforces the route's body limit while reading; checked again for any other caller.
void CheckBodySize(const web::Request& request, std::size_t limit) {
  if (request.body.size() > limit) {
    throw AppError(ErrorCode::kPayloadTooLarge, "The request body is too large.", {},
                   {{"body", "too_large", "at most " + std::to_string(limit) + " bytes"}});
  }
}

MailTemplateFilter ParseFilter(const web::Request& r) {
  MailTemplateFilter f;
  if (auto q = web::SearchQuery(r, kMaxQueryChars)) f.q = *q;
  f.limit = static_cast<int>(audit::QueryInt(r, "limit", 1, kMaxTemplateListLimit).value_or(50));
  f.cursor = audit::QueryInt(r, "cursor", 1, kMaxId);
  return f;
}

nlohmann::json PreviewJson(const TemplatePreview& p) {
  return {{"subject", p.rendered.subject},
          {"html", p.rendered.html},
          {"text", p.rendered.text},
          {"text_derived", p.text_derived},
          {"missing", p.missing}};
}

}  // namespace

void RegisterTemplateRoutes(web::Router& router, MailTemplatesService& service, std::vector<web::Middleware> site) {
  auto api = router.Group("/api/v1/sites/{site}/mail");
  web::RouteOptions large;
  large.body_limit = kTemplateBodyLimit;

  api.Get(
      "/templates",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto filter = ParseFilter(ctx.request);
        // Serialised on the blocking pool too: each template's JSON lists its variables, which compiles it.
        auto body = co_await blocking([&] {
          auto page = service.List(site_id, filter);
          return Dump(web::PageJson(
              page.items, [](const auto& t) { return ToJson(t); }, page.next_cursor));
        });
        co_return web::Response::Json(200, std::move(body));
      },
      {}, site);

  api.Post(
      "/templates",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        CheckBodySize(ctx.request, kTemplateBodyLimit);
        auto json = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        auto t = NewMailTemplateFromJson(json, errors);
        if (!errors.empty()) throw AppError::Validation(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto created = co_await blocking([&] { return service.Create(origin, site_id, t); });
        co_return web::Response::Json(201, Dump(ToJson(created)));
      },
      large, site);

  api.Get(
      "/templates/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "mail template");
        auto found = co_await blocking([&] { return service.Get(site_id, id); });
        co_return web::Response::Json(200, Dump(ToJson(found)));
      },
      {}, site);

  api.Patch(
      "/templates/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "mail template");
        CheckBodySize(ctx.request, kTemplateBodyLimit);
        auto json = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        auto patch = MailTemplatePatchFromJson(json, errors);
        if (!errors.empty()) throw AppError::Validation(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto updated = co_await blocking([&] { return service.Update(origin, site_id, id, patch); });
        co_return web::Response::Json(200, Dump(ToJson(updated)));
      },
      large, site);

  api.Delete(
      "/templates/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "mail template");
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Delete(origin, site_id, id); });
        co_return web::Response::Empty(204);
      },
      {}, site);

  api.Post(
      "/templates/{id}/preview",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "mail template");
        nlohmann::json variables = nlohmann::json::object();
        // An empty body previews without variables.
        if (!ctx.request.body.empty()) {
          auto json = ObjectBody(ctx.request);
          if (auto it = json.find("variables"); it != json.end() && !it->is_null()) variables = *it;
        }
        auto preview = co_await blocking([&] { return service.Preview(site_id, id, variables); });
        co_return web::Response::Json(200, Dump(PreviewJson(preview)));
      },
      {}, site);
}

}  // namespace poste::mail
