#include "modules/mail/provider_events_routes.hpp"

#include <nlohmann/json.hpp>
#include <optional>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/mail/sendgrid_events.hpp"
#include "lib/web/problem.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/mail/provider_events_service.hpp"

namespace poste::mail {

namespace {

void CheckSize(const web::Request& request, std::size_t limit) {
  if (request.body.size() > limit) {
    throw AppError(ErrorCode::kPayloadTooLarge, "The request body is too large.", {},
                   {{"body", "too_large", "at most " + std::to_string(limit) + " bytes"}});
  }
}

web::Response Answer(const ProviderEventsResult& r) {
  return web::Response::Json(
      200,
      web::Dump(
          {{"events", r.events}, {"recorded", r.recorded}, {"suppressed", r.suppressed}, {"confirmed", r.confirmed}}));
}

}  // namespace

void RegisterProviderEventRoutes(web::Router& router, ProviderEventsService& service,
                                 std::vector<web::Middleware> limits) {
  auto api = router.Group("/api/v1/mail/events");

  web::RouteOptions sendgrid;
  sendgrid.body_limit = kSendGridEventsBodyLimit;
  api.Post(
      "/sendgrid/{token}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        CheckSize(ctx.request, kSendGridEventsBodyLimit);
        const std::string token = ctx.Param("token");
        const std::string signature(ctx.request.headers.Get(kSendGridSignatureHeader).value_or(""));
        const std::string timestamp(ctx.request.headers.Get(kSendGridTimestampHeader).value_or(""));
        const std::string& body = ctx.request.body;
        // An unknown token answers 404 before the signature is asked for; an unsigned post to a known one
        // gets 401 with the scheme it needs (RFC 9110 asks a 401 for a challenge).
        std::optional<AppError> unsigned_post;
        ProviderEventsResult result;
        try {
          result = co_await blocking([&] { return service.HandleSendGrid(token, signature, timestamp, body); });
        } catch (const AppError& error) {
          if (error.status() != 401) throw;
          unsigned_post = error;
        }
        if (unsigned_post) {
          auto response = web::ProblemFor(ctx, *unsigned_post);
          response.headers.Set("WWW-Authenticate", R"(Signature realm="sendgrid-event-webhook")");
          co_return response;
        }
        co_return Answer(result);
      },
      sendgrid, limits);

  web::RouteOptions sns;
  sns.body_limit = kSnsEventsBodyLimit;
  api.Post(
      "/ses/{token}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        CheckSize(ctx.request, kSnsEventsBodyLimit);
        const std::string token = ctx.Param("token");
        const std::string& body = ctx.request.body;
        auto result = co_await blocking([&] { return service.HandleSns(token, body); });
        co_return Answer(result);
      },
      sns, limits);
}

}  // namespace poste::mail
