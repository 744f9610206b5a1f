#include "modules/inbox/inbox_routes.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/content_disposition.hpp"
#include "lib/web/file_body.hpp"
#include "lib/web/json_body.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/inbox/inbox_service.hpp"

namespace poste::inbox {

namespace {

using web::Dump;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

const web::Principal& Caller(const web::RequestContext& ctx) {
  if (!ctx.principal) throw AppError(ErrorCode::kUnauthorized, "Sign in first.");
  return *ctx.principal;
}

std::optional<bool> QueryBool(const web::Request& r, const char* name) {
  auto value = r.QueryParam(name);
  if (!value) return std::nullopt;
  if (*value == "true" || *value == "1") return true;
  if (*value == "false" || *value == "0") return false;
  throw AppError::BadRequest(std::string("The query parameter ") + name + " is invalid.",
                             {{name, "invalid", "true or false"}});
}

MessageFilter ParseFilter(const web::Request& r) {
  MessageFilter f;
  f.account_id = audit::QueryInt(r, "account", 1, kMaxId);
  f.thread_id = audit::QueryInt(r, "thread", 1, kMaxId);
  f.unread_only = QueryBool(r, "unread").value_or(false);
  f.archived = QueryBool(r, "archived").value_or(false);
  if (auto q = web::SearchQuery(r, kMaxQueryChars)) f.q = *q;
  f.limit = static_cast<int>(audit::QueryInt(r, "limit", 1, kMaxListLimit).value_or(50));
  f.cursor = audit::QueryInt(r, "cursor", 1, kMaxId);
  return f;
}

AccountInput ParseAccount(const web::Request& request, bool creating) {
  const auto json = web::ObjectBody(request);
  std::vector<FieldError> errors;
  auto input = AccountInputFromJson(json, creating, errors);
  if (!errors.empty()) {
    // Every problem at once: the fields that were readable are checked too.
    auto more = Validate(input, creating);
    errors.insert(errors.end(), more.begin(), more.end());
    throw AppError::Validation(std::move(errors));
  }
  return input;
}

// Types a browser could run as a page of this origin are sent as plain bytes.
std::string ServedType(const std::string& type) {
  for (const char* risky : {"html", "xml", "javascript", "ecmascript", "svg"}) {
    if (type.find(risky) != std::string::npos) return "application/octet-stream";
  }
  const bool token =
      !type.empty() && type.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.+-/") == std::string::npos;
  return token ? type : "application/octet-stream";
}

nlohmann::json SyncJson(const SyncResult& r) {
  return {{"ok", r.ok},
          {"error", r.ok ? nlohmann::json() : nlohmann::json(r.error)},
          {"fetched", r.fetched},
          {"resynced", r.resynced},
          {"more", r.more},
          {"uidvalidity", r.uidvalidity},
          {"last_uid", r.last_uid}};
}

}  // namespace

void RegisterRoutes(web::Router& router, InboxService& service, std::vector<web::Middleware> signed_in) {
  auto api = router.Group("/api/v1/inbox", std::move(signed_in));

  api.Get("/accounts", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    auto accounts = co_await blocking([&] { return service.ListAccounts(caller); });
    co_return web::Response::Json(
        200, Dump({{"items", web::ItemsJson(accounts, [](const Account& a) { return ToJson(a); })}}));
  });

  api.Post("/accounts", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    auto input = ParseAccount(ctx.request, true);
    auto origin = audit::OriginOf(ctx);
    auto created = co_await blocking([&] { return service.CreateAccount(origin, caller, input); });
    auto response = web::Response::Json(201, Dump(ToJson(created)));
    response.headers.Set("Location", "/api/v1/inbox/accounts/" + std::to_string(created.id));
    co_return response;
  });

  api.Get("/accounts/{id}", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "inbox account");
    auto account = co_await blocking([&] { return service.GetAccount(caller, id); });
    co_return web::Response::Json(200, Dump(ToJson(account)));
  });

  api.Patch("/accounts/{id}", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "inbox account");
    // Another caller's account is not there, whatever the body holds.
    co_await blocking([&] { service.GetAccount(caller, id); });
    auto input = ParseAccount(ctx.request, false);
    auto origin = audit::OriginOf(ctx);
    auto account = co_await blocking([&] { return service.UpdateAccount(origin, caller, id, input); });
    co_return web::Response::Json(200, Dump(ToJson(account)));
  });

  api.Delete("/accounts/{id}", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "inbox account");
    auto origin = audit::OriginOf(ctx);
    co_await blocking([&] { service.DeleteAccount(origin, caller, id); });
    co_return web::Response::Empty(204);
  });

  api.Post("/accounts/{id}/sync", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "inbox account");
    auto result = co_await blocking([&] { return service.SyncNow(caller, id); });
    co_return web::Response::Json(200, Dump(SyncJson(result)));
  });

  api.Get("/messages", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    auto filter = ParseFilter(ctx.request);
    auto page = co_await blocking([&] { return service.ListMessages(caller, filter); });
    co_return web::Response::Json(
        200, Dump(web::PageJson(
                 page.items, [](const MessageSummary& m) { return SummaryJson(m); }, page.next_cursor)));
  });

  api.Get("/messages/{id}", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "message");
    auto view = co_await blocking([&] { return service.GetMessage(caller, id); });
    co_return web::Response::Json(200, Dump(DetailJson(view.message, view.attachments)));
  });

  api.Get("/threads/{id}", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "thread");
    auto messages = co_await blocking([&] { return service.Thread(caller, id); });
    co_return web::Response::Json(
        200, Dump({{"id", id},
                   {"items", web::ItemsJson(messages, [](const MessageSummary& m) { return SummaryJson(m); })}}));
  });

  api.Post("/messages/{id}/read", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "message");
    const bool on_server = co_await blocking([&] { return service.MarkRead(caller, id); });
    co_return web::Response::Json(200, Dump({{"id", id}, {"read", true}, {"server_seen", on_server}}));
  });

  api.Post("/messages/{id}/archive", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "message");
    bool archived = true;
    if (!ctx.request.body.empty()) {
      const auto body = web::ObjectBody(ctx.request);
      if (auto it = body.find("archived"); it != body.end()) {
        if (!it->is_boolean()) throw AppError::Validation({{"archived", "invalid_type", "must be a boolean"}});
        archived = it->get<bool>();
      }
    }
    co_await blocking([&] { service.Archive(caller, id, archived); });
    co_return web::Response::Json(200, Dump({{"id", id}, {"archived", archived}}));
  });

  api.Get("/messages/{id}/reply", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "message");
    const bool all = QueryBool(ctx.request, "all").value_or(false);
    auto draft = co_await blocking([&] { return service.Reply(caller, id, all); });
    co_return web::Response::Json(200, Dump(ToJson(draft)));
  });

  api.Get("/messages/{id}/attachments/{n}", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "message");
    const auto& n = ctx.Param("n");
    if (n.empty() || n.size() > 4 || n.find_first_not_of("0123456789") != std::string::npos) {
      throw AppError::NotFound("No such attachment.");
    }
    const int position = std::stoi(n);
    auto found = co_await blocking([&] { return service.GetAttachment(caller, id, position); });
    auto file = co_await blocking([&] { return web::FileBodySource::Open(found.path.string()); });
    if (!file) throw AppError::NotFound("No such attachment.");
    web::Response r;
    r.headers.Set("Content-Type", ServedType(found.attachment.content_type));
    r.headers.Set("Content-Disposition", web::ContentDisposition("attachment", found.attachment.filename));
    r.headers.Set("X-Content-Type-Options", "nosniff");
    r.headers.Set("Content-Security-Policy", "sandbox; default-src 'none'");
    r.headers.Set("Cache-Control", "private, no-store");
    r.stream = std::move(file);
    co_return r;
  });
}

}  // namespace poste::inbox
