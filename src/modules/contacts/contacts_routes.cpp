#include "modules/contacts/contacts_routes.hpp"

#include <array>
#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/content_disposition.hpp"
#include "lib/web/form_urlencoded.hpp"
#include "lib/web/json_body.hpp"
#include "lib/web/problem.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/contacts/contacts_csv.hpp"
#include "modules/contacts/contacts_service.hpp"
#include "modules/sites/site_cors.hpp"

namespace poste::contacts {

namespace {

using web::Concat;
using web::Dump;
using web::SiteId;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

// The contact form's CORS preflight: a page's script posts JSON or a form, with its usual headers.
constexpr std::string_view kFormAllow = "POST, OPTIONS";
constexpr std::array<std::string_view, 1> kFormMethods = {"POST"};
constexpr std::array<std::string_view, 5> kFormRequestHeaders = {"accept", "accept-language", "content-language",
                                                                 "content-type", "x-request-id"};

// {id} of the path: a positive integer, else 404 (as for an id that does not exist).
std::int64_t ContactId(const web::RequestContext& ctx) {
  const auto& text = ctx.Param("id");
  std::int64_t id = 0;
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw AppError::NotFound("No such contact.");
  }
  for (char c : text) id = id * 10 + (c - '0');
  if (id <= 0) throw AppError::NotFound("No such contact.");
  return id;
}

Submission ParseSubmission(const web::Request& request) {
  // The server enforces the route's body limit while reading; checked again for any other caller.
  if (request.body.size() > kContactBodyLimit) {
    throw AppError(ErrorCode::kPayloadTooLarge, "The request body is too large.", {},
                   {{"body", "too_large", "at most " + std::to_string(kContactBodyLimit) + " bytes"}});
  }
  std::vector<FieldError> errors;
  Submission out;
  if (web::IsFormUrlencoded(request)) {
    web::FormLimits limits;
    limits.max_body = kContactBodyLimit;
    out = SubmissionFromForm(web::ParseFormFields(request.body, limits), errors);
  } else {
    auto json = web::ParseJsonBody(request);  // 415 for any other content type
    if (!json.is_object()) {
      throw AppError::BadRequest("The body must be a JSON object.", {{"body", "invalid_type", "expected an object"}});
    }
    out = SubmissionFromJson(json, errors);
  }
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  return out;
}

ContactFilter ParseFilter(const web::Request& r) {
  ContactFilter f;
  if (auto status = r.QueryParam("status")) {
    auto parsed = ParseStatusFilter(*status);
    if (!parsed) {
      throw AppError::BadRequest("The query parameter status is invalid.",
                                 {{"status", "invalid", "one of inbox, unread, read, archived, all"}});
    }
    f.status = *parsed;
  }
  f.from_ms = audit::QueryInt(r, "from", 0, kMaxId);
  f.to_ms = audit::QueryInt(r, "to", 0, kMaxId);
  if (auto q = web::SearchQuery(r, kMaxQueryChars)) f.q = *q;
  f.limit = static_cast<int>(audit::QueryInt(r, "limit", 1, kMaxListLimit).value_or(50));
  f.cursor = audit::QueryInt(r, "cursor", 1, kMaxId);
  return f;
}

ContactPatch ParsePatch(const web::Request& request) {
  auto json = web::ParseJsonBody(request);
  if (!json.is_object()) {
    throw AppError::BadRequest("The body must be a JSON object.", {{"body", "invalid_type", "expected an object"}});
  }
  std::vector<FieldError> errors;
  ContactPatch p;
  for (const char* name : {"read", "archived"}) {
    auto it = json.find(name);
    if (it == json.end() || it->is_null()) continue;
    if (!it->is_boolean()) {
      errors.push_back({name, "invalid_type", "must be a boolean"});
      continue;
    }
    (std::string_view(name) == "read" ? p.read : p.archived) = it->get<bool>();
  }
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  return p;
}

}  // namespace

void RegisterRoutes(web::Router& router, ContactsService& service, ContactsRouteGuards guards) {
  auto api = router.Group("/api/v1");
  const auto site = Concat(guards.user, guards.site_access);

  web::RouteOptions form_options;
  form_options.body_limit = kContactBodyLimit;
  // Errors after the site is known carry the CORS headers too, so that the page's script can read them.
  api.Post(
      "/public/sites/{site}/contact",
      [&service, find = guards.find_site](web::RequestContext& ctx) -> web::Task<web::Response> {
        const std::string key = ctx.Param("site");
        auto site = co_await blocking([&] { return find(key); });
        if (!site) throw AppError::NotFound("No such site.");
        const auto origins = sites::SiteOrigins(*site);
        web::Response response;
        try {
          auto submission = ParseSubmission(ctx.request);
          ClientInfo client{ctx.request.remote_ip, std::string(ctx.request.headers.Get("User-Agent").value_or(""))};
          const auto id = site->id;
          co_await blocking([&] { service.Submit(id, submission, client); });
          // The same answer whether it was stored or dropped as spam.
          response = web::Response::Json(202, R"({"status":"received"})");
        } catch (const AppError& error) {
          response = web::ProblemFor(ctx, error);
        }
        sites::AllowSiteOrigin(ctx.request, response, origins);
        co_return response;
      },
      form_options, guards.public_form);

  api.Add(
      "OPTIONS", "/public/sites/{site}/contact",
      [find = guards.find_site, extra = guards.extra_origins](web::RequestContext& ctx) -> web::Task<web::Response> {
        const std::string key = ctx.Param("site");
        auto site = co_await blocking([&] { return find(key); });
        if (!site) throw AppError::NotFound("No such site.");
        co_return sites::Preflight(ctx.request, sites::SiteOrigins(*site), extra,
                                   {kFormAllow, kFormMethods, kFormRequestHeaders});
      },
      {}, guards.preflight);

  api.Get(
      "/sites/{site}/contacts",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = SiteId(ctx);
        auto filter = ParseFilter(ctx.request);
        auto page = co_await blocking([&] { return service.List(id, filter); });
        co_return web::Response::Json(200, Dump(web::PageJson(
                                               page.items, [](const auto& x) { return ToJson(x); }, page.next_cursor)));
      },
      {}, site);

  api.Get(
      "/sites/{site}/contacts.csv",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = SiteId(ctx);
        auto filter = ParseFilter(ctx.request);
        auto csv = co_await blocking([&] { return service.ExportCsv(id, filter); });
        auto response = web::Response::Text(200, std::move(csv), "text/csv; charset=utf-8; header=present");
        response.headers.Set("Content-Disposition",
                             web::ContentDisposition("attachment", "contacts-" + std::to_string(id) + ".csv"));
        response.headers.Set("Cache-Control", "no-store");
        co_return response;
      },
      {}, site);

  api.Get(
      "/sites/{site}/contacts/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = ContactId(ctx);
        auto found = co_await blocking([&] { return service.Get(site_id, id); });
        co_return web::Response::Json(200, Dump(ToJson(found)));
      },
      {}, site);

  api.Patch(
      "/sites/{site}/contacts/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = ContactId(ctx);
        auto patch = ParsePatch(ctx.request);
        auto origin = audit::OriginOf(ctx);
        auto updated = co_await blocking([&] { return service.Update(origin, site_id, id, patch); });
        co_return web::Response::Json(200, Dump(ToJson(updated)));
      },
      {}, site);

  api.Delete(
      "/sites/{site}/contacts/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = ContactId(ctx);
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Delete(origin, site_id, id); });
        co_return web::Response::Empty(204);
      },
      {}, site);
}

}  // namespace poste::contacts
