#include "modules/mail/mail_oauth_routes.hpp"

#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/form_urlencoded.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/mail/mail_oauth_page.hpp"
#include "modules/mail/mail_oauth_service.hpp"

namespace poste::mail {

namespace {

web::Response Page(const CallbackResult& result) {
  auto response = web::Response::Text(FailureStatus(result.failure),
                                      RenderOAuthPage(result.failure, result.account_name), "text/html; charset=utf-8");
  response.headers.Set("Content-Security-Policy", OAuthPagePolicy());
  response.headers.Set("X-Frame-Options", "DENY");
  // The address holds the code and the state: no cache keeps the page. (The page has no link or resource
  // to pass the address on, says <meta name="referrer" content="no-referrer">, and the pipeline's
  // Referrer-Policy never sends a query to another origin.)
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

// The callback's parameters, read strictly (bad escapes, invalid UTF-8, repeated or oversized values are
// refused: a query no provider sends). Unknown parameters (scope, authuser, session_state...) are ignored.
std::optional<CallbackQuery> ReadQuery(const web::Request& request) {
  if (request.query.size() > kMaxCallbackQuery) return std::nullopt;
  web::FormLimits limits;
  limits.max_body = kMaxCallbackQuery;
  limits.max_fields = 32;
  limits.max_value = kMaxCallbackValue;
  std::map<std::string, std::string, std::less<>> fields;
  try {
    fields = web::ParseFormFields(request.query, limits);
  } catch (const AppError&) {
    return std::nullopt;
  }
  auto take = [&](const char* name) -> std::optional<std::string> {
    auto it = fields.find(name);
    if (it == fields.end()) return std::nullopt;
    return it->second;
  };
  return CallbackQuery{take("code"), take("state"), take("error")};
}

}  // namespace

void RegisterOAuthRoutes(web::Router& router, MailOAuthService& service, OAuthRouteGuards guards) {
  auto api = router.Group("/api/v1");

  api.Post(
      "/sites/{site}/mail/accounts/{id}/oauth/start",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = web::SiteId(ctx);
        const auto id = web::PathId(ctx, "id", "mail account");
        auto origin = audit::OriginOf(ctx);
        auto start = co_await blocking([&] { return service.Start(origin, site_id, id); });
        auto response = web::Response::Json(
            200, web::Dump({{"authorization_url", start.authorization_url}, {"expires_at", start.expires_at}}));
        response.headers.Set("Cache-Control", "no-store");
        co_return response;
      },
      {}, guards.manage);

  api.Get(
      "/mail/oauth/callback",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        auto query = ReadQuery(ctx.request);
        if (!query) {
          CallbackResult refused;
          refused.failure = CallbackFailure::kInvalidRequest;
          co_return Page(refused);
        }
        auto origin = audit::OriginOf(ctx);
        auto result = co_await blocking([&] { return service.Complete(origin, *query); });
        co_return Page(result);
      },
      {}, guards.callback);
}

}  // namespace poste::mail
