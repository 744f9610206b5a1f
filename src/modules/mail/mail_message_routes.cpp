#include "modules/mail/mail_message_routes.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/mail/mail_message_compose.hpp"
#include "modules/mail/mail_message_service.hpp"

namespace poste::mail {

namespace {

using web::Concat;
using web::Dump;
using web::ObjectBody;
using web::PathId;
using web::SiteId;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

}  // namespace

void RegisterMessageRoutes(web::Router& router, MailMessagesService& service, MessageComposer& composer,
                           MessageRouteGuards guards) {
  auto api = router.Group("/api/v1");
  const auto site = Concat(guards.user, guards.site_access);

  api.Post(
      "/sites/{site}/mail/messages",
      [&service, &composer](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto body = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        SendOptions options;
        ComposeRequest compose;
        auto request = ParseMessageRequest(body, options.send_at, options.idempotency_key, errors, &compose);
        if (auto header = ctx.request.headers.Get("Idempotency-Key")) {
          if (options.idempotency_key && *options.idempotency_key != *header) {
            errors.push_back({"idempotency_key", "conflict", "differs from the Idempotency-Key header"});
          }
          options.idempotency_key = std::string(*header);
        }
        if (!errors.empty()) throw AppError::Validation(std::move(errors));
        if (ctx.principal) options.created_by = ctx.principal->user_id;
        auto origin = audit::OriginOf(ctx);
        auto queued = co_await blocking([&] {
          composer.Apply(site_id, options.created_by, compose, request);
          return service.Enqueue(origin, site_id, std::move(request), options);
        });
        auto json = ToJson(queued.message, false);
        json["created"] = queued.created;
        auto response = web::Response::Json(202, Dump(json));
        response.headers.Set("Location", "/api/v1/sites/" + std::to_string(site_id) + "/mail/messages/" +
                                             std::to_string(queued.message.id));
        co_return response;
      },
      {}, site);

  api.Get(
      "/sites/{site}/mail/messages",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        MessageFilter filter;
        filter.limit = static_cast<int>(audit::QueryInt(ctx.request, "limit", 1, kMaxMessageListLimit).value_or(20));
        filter.cursor = audit::QueryInt(ctx.request, "cursor", 1, kMaxId);
        if (auto text = ctx.request.QueryParam("state")) {
          filter.state = ParseMessageState(*text);
          if (!filter.state) {
            throw AppError::BadRequest("Unknown state.",
                                       {{"state", "invalid_value", "one of queued, sending, sent, failed, cancelled"}});
          }
        }
        if (auto to = ctx.request.QueryParam("to")) {
          std::vector<FieldError> errors;
          auto box = ParseMailbox(*to, "to", errors);
          if (!errors.empty() || !box.name.empty()) {
            throw AppError::BadRequest("The query parameter to is invalid.", {{"to", "invalid", "an email address"}});
          }
          filter.recipient = NormalizeAddress(box.email);
        }
        auto page = co_await blocking([&] { return service.List(site_id, filter); });
        co_return web::Response::Json(
            200, Dump(web::PageJson(
                     page.items, [](const auto& m) { return ToJson(m, false); }, page.next_cursor)));
      },
      {}, site);

  api.Get(
      "/sites/{site}/mail/messages/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "message");
        auto found = co_await blocking([&] { return service.Get(site_id, id); });
        co_return web::Response::Json(200, Dump(ToJson(found, true)));
      },
      {}, site);

  api.Post(
      "/sites/{site}/mail/messages/{id}/cancel",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "message");
        auto origin = audit::OriginOf(ctx);
        auto cancelled = co_await blocking([&] { return service.Cancel(origin, site_id, id); });
        co_return web::Response::Json(200, Dump(ToJson(cancelled, false)));
      },
      {}, site);
}

}  // namespace poste::mail
