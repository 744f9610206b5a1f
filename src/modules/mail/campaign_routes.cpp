#include "modules/mail/campaign_routes.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/web/json_body.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/mail/campaign_service.hpp"

namespace poste::mail {
namespace {

using web::Concat;
using web::Dump;
using web::ObjectBody;
using web::PathId;
using web::SiteId;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();
constexpr int kMaxListLimit = 100;

nlohmann::json ImportJson(const ImportResult& r) {
  nlohmann::json rejected = nlohmann::json::array();
  for (const auto& row : r.import.rejected) {
    rejected.push_back({{"line", row.line}, {"code", row.code}, {"message", row.message}});
  }
  return {{"added", r.added},
          {"rows", r.import.recipients.size()},
          {"variables", r.import.variables},
          {"duplicates", r.import.duplicates},
          {"duplicate_lines", r.import.duplicate_lines},
          {"rejected_count", r.import.rejected_count},
          {"rejected", rejected}};
}

nlohmann::json PreviewJson(const CampaignPreview& p) {
  return {{"recipient_id", p.recipient_id ? nlohmann::json(p.recipient_id) : nlohmann::json()},
          {"email", p.email},
          {"subject", p.content.subject},
          {"html", p.content.html},
          {"text", p.content.text},
          {"missing_variables", p.missing_variables}};
}

bool IsCsv(const web::Request& request) {
  auto type = request.headers.Get("Content-Type");
  if (!type) return false;
  const std::string t = validate::ascii::ToLower(*type);
  return t.starts_with("text/csv") || t.starts_with("application/csv");
}

}  // namespace

void RegisterCampaignRoutes(web::Router& router, CampaignService& service, CampaignRouteGuards guards) {
  auto api = router.Group("/api/v1/sites/{site}/mail/campaigns");
  const auto site = Concat(guards.user, guards.site_access);

  api.Get(
      "",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const int limit = static_cast<int>(audit::QueryInt(ctx.request, "limit", 1, kMaxListLimit).value_or(20));
        const auto cursor = audit::QueryInt(ctx.request, "cursor", 1, kMaxId);
        auto page = co_await blocking([&] { return service.List(site_id, cursor, limit); });
        co_return web::Response::Json(
            200, Dump(web::PageJson(
                     page.items, [](const Campaign& c) { return ToJson(c, false); }, page.next_cursor)));
      },
      {}, site);
  api.Post(
      "",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto input = ParseCampaignInput(ObjectBody(ctx.request), true);
        auto origin = audit::OriginOf(ctx);
        auto c = co_await blocking([&] { return service.Create(origin, site_id, input); });
        auto response = web::Response::Json(201, Dump(ToJson(c, true)));
        response.headers.Set("Location",
                             "/api/v1/sites/" + std::to_string(site_id) + "/mail/campaigns/" + std::to_string(c.id));
        co_return response;
      },
      {}, site);
  api.Get(
      "/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "campaign");
        auto c = co_await blocking([&] { return service.Get(site_id, id); });
        co_return web::Response::Json(200, Dump(ToJson(c, true)));
      },
      {}, site);
  api.Add(
      "PATCH", "/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "campaign");
        const auto input = ParseCampaignInput(ObjectBody(ctx.request), false);
        auto origin = audit::OriginOf(ctx);
        auto c = co_await blocking([&] { return service.Update(origin, site_id, id, input); });
        co_return web::Response::Json(200, Dump(ToJson(c, true)));
      },
      {}, site);
  api.Add(
      "DELETE", "/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "campaign");
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Delete(origin, site_id, id); });
        co_return web::Response::Empty(204);
      },
      {}, site);

  web::RouteOptions upload;
  upload.body_limit = kCampaignCsvLimit;
  api.Post(
      "/{id}/recipients",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "campaign");
        auto origin = audit::OriginOf(ctx);
        if (IsCsv(ctx.request)) {
          auto result = co_await blocking([&] { return service.ImportCsv(origin, site_id, id, ctx.request.body); });
          co_return web::Response::Json(200, Dump(ImportJson(result)));
        }
        const auto body = ObjectBody(ctx.request);  // 415 for another content type
        if (body.value("source", nlohmann::json()) != "contacts" || body.size() != 1) {
          throw AppError::Validation(
              {{"source", "invalid_value", "send a CSV file (Content-Type: text/csv) or {\"source\": \"contacts\"}"}});
        }
        auto added = co_await blocking([&] { return service.ImportContacts(origin, site_id, id); });
        co_return web::Response::Json(200, Dump({{"added", added}}));
      },
      upload, site);
  api.Get(
      "/{id}/recipients",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "campaign");
        const int limit = static_cast<int>(audit::QueryInt(ctx.request, "limit", 1, kMaxListLimit).value_or(50));
        const auto cursor = audit::QueryInt(ctx.request, "cursor", 1, kMaxId);
        std::optional<RecipientState> state;
        if (auto text = ctx.request.QueryParam("state")) {
          state = ParseRecipientState(*text);
          if (!state) {
            throw AppError::BadRequest("Unknown state.",
                                       {{"state", "invalid_value", "one of pending, claimed, sent, failed, skipped"}});
          }
        }
        auto page = co_await blocking([&] { return service.Recipients(site_id, id, state, cursor, limit); });
        co_return web::Response::Json(
            200, Dump(web::PageJson(
                     page.items, [](const CampaignRecipient& r) { return ToJson(r); }, page.next_cursor)));
      },
      {}, site);
  api.Add(
      "DELETE", "/{id}/recipients",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "campaign");
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.ClearRecipients(origin, site_id, id); });
        co_return web::Response::Empty(204);
      },
      {}, site);
  api.Get(
      "/{id}/preview",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "campaign");
        const auto recipient = audit::QueryInt(ctx.request, "recipient", 1, kMaxId);
        auto preview = co_await blocking([&] { return service.Preview(site_id, id, recipient); });
        co_return web::Response::Json(200, Dump(PreviewJson(preview)));
      },
      {}, site);
  api.Post(
      "/{id}/test",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "campaign");
        const auto body = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        Mailbox to;
        if (auto it = body.find("to"); it != body.end() && it->is_string()) {
          to = ParseMailbox(it->get<std::string>(), "to", errors);
        } else {
          errors.push_back({"to", "required", "the address to send the test to"});
        }
        std::optional<std::int64_t> recipient;
        if (auto it = body.find("recipient_id"); it != body.end() && !it->is_null()) {
          if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
            errors.push_back({"recipient_id", "invalid_type", "a recipient's id"});
          } else {
            recipient = it->get<std::int64_t>();
          }
        }
        if (!errors.empty()) throw AppError::Validation(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto message_id = co_await blocking([&] { return service.SendTest(origin, site_id, id, to, recipient); });
        co_return web::Response::Json(202, Dump({{"message_id", message_id}}));
      },
      {}, site);

  api.Post(
      "/{id}/start",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = PathId(ctx, "id", "campaign");
        std::optional<std::string> send_at;
        if (!ctx.request.body.empty()) {
          const auto body = ObjectBody(ctx.request);
          if (auto it = body.find("send_at"); it != body.end() && !it->is_null()) {
            if (!it->is_string()) throw AppError::Validation({{"send_at", "invalid_type", "an ISO 8601 date-time"}});
            send_at = it->get<std::string>();
          }
        }
        auto origin = audit::OriginOf(ctx);
        auto c = co_await blocking([&] { return service.Start(origin, site_id, id, send_at); });
        co_return web::Response::Json(200, Dump(ToJson(c, false)));
      },
      {}, site);
  auto transition = [&](const char* path,
                        Campaign (CampaignService::*change)(const audit::Origin&, std::int64_t, std::int64_t)) {
    api.Post(
        path,
        [&service, change](web::RequestContext& ctx) -> web::Task<web::Response> {
          const auto site_id = SiteId(ctx);
          const auto id = PathId(ctx, "id", "campaign");
          auto origin = audit::OriginOf(ctx);
          auto c = co_await blocking([&] { return (service.*change)(origin, site_id, id); });
          co_return web::Response::Json(200, Dump(ToJson(c, false)));
        },
        {}, site);
  };
  transition("/{id}/pause", &CampaignService::Pause);
  transition("/{id}/resume", &CampaignService::Resume);
  transition("/{id}/cancel", &CampaignService::Cancel);
}

}  // namespace poste::mail
