#include "modules/mail/unsubscribe_routes.hpp"

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "modules/mail/unsubscribe_page.hpp"
#include "modules/mail/unsubscribe_service.hpp"

namespace poste::mail {

namespace {

web::Response Page(int status, std::string html) {
  auto response = web::Response::Text(status, std::move(html), "text/html; charset=utf-8");
  response.headers.Set("Content-Security-Policy", UnsubscribePagePolicy());
  response.headers.Set("X-Frame-Options", "DENY");
  // The URL holds the token: no cache may keep the page.
  response.headers.Set("Cache-Control", "no-store");
  return response;
}

std::string_view RequestLocale(const web::RequestContext& ctx) {
  return LocaleFromAcceptLanguage(ctx.request.headers.Get("Accept-Language").value_or(""));
}

}  // namespace

void RegisterUnsubscribeRoutes(web::Router& router, UnsubscribeService& service, std::vector<web::Middleware> limits) {
  auto root = router.Root();

  root.Get(
      "/u/{token}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const std::string token = ctx.Param("token");
        std::optional<UnsubscribeLanding> landing;
        try {
          landing = co_await blocking([&] { return service.Open(token); });
        } catch (const AppError& error) {
          if (error.status() != 404) throw;
        }
        if (!landing) {
          co_return Page(404, RenderUnsubscribePage(UnsubscribePage::kInvalid, RequestLocale(ctx), "", "", ""));
        }
        const auto kind = landing->already ? UnsubscribePage::kAlready : UnsubscribePage::kConfirm;
        // The form posts to the path it was served from: the token as received, URL-safe by construction.
        co_return Page(200, RenderUnsubscribePage(kind, landing->site.locale, landing->site.name, landing->claims.email,
                                                  "/u/" + token));
      },
      {}, limits);

  web::RouteOptions options;
  options.body_limit = kUnsubscribeBodyLimit;
  root.Post(
      "/u/{token}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        if (ctx.request.body.size() > kUnsubscribeBodyLimit) {
          throw AppError(ErrorCode::kPayloadTooLarge, "The request body is too large.", {},
                         {{"body", "too_large", "at most " + std::to_string(kUnsubscribeBodyLimit) + " bytes"}});
        }
        const std::string token = ctx.Param("token");
        // The token alone decides: RFC 8058 clients send List-Unsubscribe=One-Click (form-urlencoded or
        // multipart/form-data), the page's form sends the same; the body is not otherwise read.
        const bool from_page = ctx.request.headers.Has("Origin") || ctx.request.headers.Has("Sec-Fetch-Mode");
        auto landing = co_await blocking([&] { return service.Unsubscribe(token, from_page ? "page" : "one_click"); });
        co_return Page(200, RenderUnsubscribePage(landing.already ? UnsubscribePage::kAlready : UnsubscribePage::kDone,
                                                  landing.site.locale, landing.site.name, landing.claims.email, ""));
      },
      options, limits);
}

}  // namespace poste::mail
