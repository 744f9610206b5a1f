#include "modules/audit/audit_routes.hpp"

#include <charconv>
#include <limits>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_service.hpp"

namespace poste::audit {

Origin OriginOf(const web::RequestContext& ctx) {
  Origin o;
  if (ctx.principal) {
    o.user_id = ctx.principal->user_id;
    o.api_key_id = ctx.principal->api_key_id;
  }
  o.ip = ctx.request.remote_ip;
  o.request_id = ctx.request_id;
  return o;
}

std::optional<std::int64_t> QueryInt(const web::Request& request, std::string_view name, std::int64_t min,
                                     std::int64_t max) {
  auto text = request.QueryParam(name);
  if (!text) return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || ec != std::errc() || end != text->data() + text->size() || value < min || value > max) {
    throw AppError::BadRequest(
        "The query parameter " + std::string(name) + " is invalid.",
        {{std::string(name), "invalid",
          "an integer from " + std::to_string(min) + " to " + std::to_string(max) + " is expected"}});
  }
  return value;
}

namespace {

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

std::optional<std::string> QueryText(const web::Request& request, std::string_view name) {
  auto text = request.QueryParam(name);
  if (text && text->size() > 200) {
    throw AppError::BadRequest("The query parameter " + std::string(name) + " is too long.",
                               {{std::string(name), "too_long", "at most 200 bytes"}});
  }
  return text;
}

}  // namespace

void RegisterRoutes(web::Router& router, AuditService& service, AuditRouteGuards guards) {
  auto api = router.Group("/api/v1");
  auto admin = guards.user;
  admin.insert(admin.end(), guards.admin.begin(), guards.admin.end());
  api.Get(
      "/audit",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        // The guard already refused others; the log names every actor, so check again here.
        if (!ctx.principal) throw AppError(ErrorCode::kUnauthorized, "Authentication is required.");
        if (!ctx.principal->admin) throw AppError(ErrorCode::kForbidden, "Only administrators may read the audit log.");
        const auto& r = ctx.request;
        AuditFilter f;
        f.actor_user_id = QueryInt(r, "actor", 1, kMaxId);
        f.site_id = QueryInt(r, "site", 1, kMaxId);
        f.action = QueryText(r, "action");
        f.object_type = QueryText(r, "object_type");
        f.object_id = QueryText(r, "object_id");
        f.from_ms = QueryInt(r, "from", 0, kMaxId);
        f.to_ms = QueryInt(r, "to", 0, kMaxId);
        f.limit = static_cast<int>(QueryInt(r, "limit", 1, kMaxListLimit).value_or(50));
        f.cursor = QueryInt(r, "cursor", 1, kMaxId);
        AuditPage page = co_await blocking([&service, &f] { return service.List(f); });
        co_return web::Response::Json(200, web::Dump(web::PageJson(
                                               page.items, [](const auto& x) { return ToJson(x); }, page.next_cursor)));
      },
      {}, admin);
}

}  // namespace poste::audit
