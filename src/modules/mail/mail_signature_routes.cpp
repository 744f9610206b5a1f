#include "modules/mail/mail_signature_routes.hpp"

#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/mail/mail_signature_service.hpp"

namespace poste::mail {

namespace {

// The caller's user (the owner of the API key for a key).
std::int64_t CallerId(const web::RequestContext& ctx) {
  if (!ctx.principal) throw AppError::Internal("signature route reached without authentication");
  return ctx.principal->user_id;
}

}  // namespace

void RegisterSignatureRoutes(web::Router& router, MailSignaturesService& service, std::vector<web::Middleware> site) {
  auto api = router.Group("/api/v1/sites/{site}/mail");
  web::RouteOptions options;
  options.body_limit = kSignatureBodyLimit;

  api.Get(
      "/signature",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = web::SiteId(ctx);
        const auto user_id = CallerId(ctx);
        auto found = co_await blocking([&] { return service.SignatureFor(site_id, user_id); });
        co_return web::Response::Json(200, web::Dump(ToJson(found)));
      },
      {}, site);

  api.Put(
      "/signature",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = web::SiteId(ctx);
        const auto user_id = CallerId(ctx);
        if (ctx.request.body.size() > kSignatureBodyLimit) {
          throw AppError(ErrorCode::kPayloadTooLarge, "The request body is too large.", {},
                         {{"body", "too_large", "at most " + std::to_string(kSignatureBodyLimit) + " bytes"}});
        }
        auto json = web::ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        auto input = SignatureInputFromJson(json, errors);
        if (!errors.empty()) throw AppError::Validation(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto stored = co_await blocking([&] { return service.Put(origin, site_id, user_id, input); });
        co_return web::Response::Json(200, web::Dump(ToJson(std::optional<MailSignature>(std::move(stored)))));
      },
      options, site);

  api.Delete(
      "/signature",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = web::SiteId(ctx);
        const auto user_id = CallerId(ctx);
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Delete(origin, site_id, user_id); });
        co_return web::Response::Empty(204);
      },
      {}, site);
}

}  // namespace poste::mail
