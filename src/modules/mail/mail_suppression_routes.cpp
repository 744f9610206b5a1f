#include "modules/mail/mail_suppression_routes.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/mail/mail_suppression_service.hpp"

namespace poste::mail {

namespace {

using web::Dump;
using web::SiteId;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t kMaxQueryChars = 254;

SuppressionFilter ParseFilter(const web::Request& r) {
  SuppressionFilter f;
  if (auto reason = r.QueryParam("reason")) {
    f.reason = ParseReason(*reason);
    if (!f.reason) {
      throw AppError::BadRequest("The query parameter reason is invalid.",
                                 {{"reason", "invalid", "one of unsubscribe, hard_bounce, complaint, manual"}});
    }
  }
  if (auto q = web::SearchQuery(r, kMaxQueryChars)) f.q = *q;
  f.limit = static_cast<int>(audit::QueryInt(r, "limit", 1, kMaxSuppressionListLimit).value_or(50));
  f.cursor = audit::QueryInt(r, "cursor", 1, kMaxId);
  return f;
}

// {"email", "reason"?: "manual", "note"?}.
std::pair<std::string, std::string> ParseEntry(const web::Request& request) {
  if (request.body.size() > kSuppressionBodyLimit) {
    throw AppError(ErrorCode::kPayloadTooLarge, "The request body is too large.", {},
                   {{"body", "too_large", "at most " + std::to_string(kSuppressionBodyLimit) + " bytes"}});
  }
  auto json = web::ObjectBody(request);
  std::vector<FieldError> errors;
  const auto text = [&](const char* name, std::string& into) {
    auto it = json.find(name);
    if (it == json.end() || it->is_null()) return false;
    if (!it->is_string()) return errors.push_back({name, "invalid_type", "must be a string"}), false;
    into = it->get<std::string>();
    return true;
  };
  std::string email, reason, note;
  if (!text("email", email) && errors.empty()) errors.push_back({"email", "required", "is required"});
  // Other reasons come from the mail engine itself (bounces, complaints, unsubscribes), never by hand.
  if (text("reason", reason) && reason != "manual") {
    errors.push_back({"reason", "invalid", "only manual entries can be added"});
  }
  text("note", note);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  return {email, note};
}

}  // namespace

void RegisterSuppressionRoutes(web::Router& router, MailSuppressionsService& service,
                               std::vector<web::Middleware> site) {
  auto api = router.Group("/api/v1/sites/{site}/mail");
  web::RouteOptions options;
  options.body_limit = kSuppressionBodyLimit;

  api.Get(
      "/suppressions",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto filter = ParseFilter(ctx.request);
        auto page = co_await blocking([&] { return service.List(site_id, filter); });
        co_return web::Response::Json(200, Dump(web::PageJson(
                                               page.items, [](const auto& x) { return ToJson(x); }, page.next_cursor)));
      },
      {}, site);

  api.Post(
      "/suppressions",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto entry = ParseEntry(ctx.request);
        auto origin = audit::OriginOf(ctx);
        auto result = co_await blocking([&] { return service.AddManual(origin, site_id, entry.first, entry.second); });
        // 201 when added; 200 when the address was already listed (unchanged, whatever its reason).
        co_return web::Response::Json(result.outcome == SuppressOutcome::kAdded ? 201 : 200,
                                      Dump(ToJson(result.entry)));
      },
      options, site);

  api.Get(
      "/suppressions/{entry}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string key = ctx.Param("entry");
        auto found = co_await blocking([&] { return service.Get(site_id, key); });
        co_return web::Response::Json(200, Dump(ToJson(found)));
      },
      {}, site);

  api.Delete(
      "/suppressions/{entry}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string key = ctx.Param("entry");
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Remove(origin, site_id, key); });
        co_return web::Response::Empty(204);
      },
      {}, site);
}

}  // namespace poste::mail
