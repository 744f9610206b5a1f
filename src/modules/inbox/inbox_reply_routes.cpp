#include "modules/inbox/inbox_reply_routes.hpp"

#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/inbox/inbox_reply.hpp"
#include "modules/inbox/inbox_service.hpp"
#include "modules/mail/mail_message_compose.hpp"
#include "modules/mail/mail_message_service.hpp"

namespace poste::inbox {

namespace {

using web::Dump;

const web::Principal& Caller(const web::RequestContext& ctx) {
  if (!ctx.principal) throw AppError(ErrorCode::kUnauthorized, "Sign in first.");
  return *ctx.principal;
}

std::vector<mail::Mailbox> Mailboxes(const std::vector<Address>& list) {
  std::vector<mail::Mailbox> out;
  for (const auto& a : list) out.push_back({a.name, a.email});
  return out;
}

// What both routes read: the message fields of POST .../mail/messages the caller may set here, plus "site"
// and the route's own switches. The fields the reply or forward sets itself are refused.
struct ParsedBody {
  mail::MessageRequest request;
  mail::ComposeRequest compose;
  mail::SendOptions options;
  std::optional<std::string> site;
  bool reply_all = false;
  bool quote = true;
};

ParsedBody Parse(const web::RequestContext& ctx, bool forward) {
  auto body = web::ObjectBody(ctx.request);
  ParsedBody out;
  std::vector<FieldError> errors;
  for (const char* set_here : {"subject", "in_reply_to", "references", "template_id", "variables"}) {
    if (body.contains(set_here)) errors.push_back({set_here, "not_allowed", "set by the reply or forward"});
  }
  if (!forward && body.contains("to")) errors.push_back({"to", "not_allowed", "a reply goes to the sender"});
  if (auto it = body.find("site"); it != body.end() && !it->is_null()) {
    if (it->is_string() && !it->get_ref<const std::string&>().empty() &&
        it->get_ref<const std::string&>().size() <= 200) {
      out.site = it->get<std::string>();
    } else if (it->is_number_integer() && it->get<std::int64_t>() > 0) {
      out.site = std::to_string(it->get<std::int64_t>());
    } else {
      errors.push_back({"site", "invalid_type", "a site id or slug"});
    }
  }
  const auto flag = [&](const char* name, bool& into) {
    auto it = body.find(name);
    if (it == body.end() || it->is_null()) return;
    if (!it->is_boolean()) {
      errors.push_back({name, "invalid_type", "must be a boolean"});
    } else {
      into = it->get<bool>();
    }
  };
  if (!forward) {
    flag("reply_all", out.reply_all);
    flag("quote", out.quote);
  }
  nlohmann::json rest = body;
  for (const char* own :
       {"site", "reply_all", "quote", "subject", "in_reply_to", "references", "template_id", "variables"}) {
    rest.erase(own);
  }
  if (!forward) rest.erase("to");
  std::vector<FieldError> parsed;
  out.request = mail::ParseMessageRequest(rest, out.options.send_at, out.options.idempotency_key, parsed, &out.compose);
  for (auto& e : parsed) {
    // The subject is the reply's or forward's; the bodies are checked below (a forward may have none).
    if (e.code == "required" && (e.field == "subject" || e.field == "text")) continue;
    errors.push_back(std::move(e));
  }
  if (forward && out.request.to.empty() && !body.contains("to")) errors.push_back({"to", "required", "recipients"});
  if (!forward && out.request.html.empty() && out.request.text.empty()) {
    errors.push_back({"text", "required", "an html or a text body"});
  }
  if (auto header = ctx.request.headers.Get("Idempotency-Key")) {
    if (out.options.idempotency_key && *out.options.idempotency_key != *header) {
      errors.push_back({"idempotency_key", "conflict", "differs from the Idempotency-Key header"});
    }
    out.options.idempotency_key = std::string(*header);
  }
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  if (ctx.principal) out.options.created_by = ctx.principal->user_id;
  return out;
}

// The site the message is sent for: the body's "site", else the shared inbox's site; one the caller may
// send for.
std::int64_t SendingSite(const ReplyRouteDeps& deps, const web::Principal& caller, const ParsedBody& parsed,
                         const Account& account) {
  std::optional<std::int64_t> site;
  if (parsed.site) {
    site = deps.resolve_site(*parsed.site);
  } else if (account.site_id) {
    site = account.site_id;
  } else {
    throw AppError::Validation({{"site", "required", "the site to send for (a personal inbox has none)"}});
  }
  if (!site || !caller.CanAccessSite(*site)) {
    throw AppError::Validation({{"site", "not_found", "no such site, or not one you may send for"}});
  }
  return *site;
}

web::Response Accepted(const mail::Enqueued& queued) {
  auto json = mail::ToJson(queued.message, false);
  json["created"] = queued.created;
  auto response = web::Response::Json(202, Dump(json));
  response.headers.Set("Location", "/api/v1/sites/" + std::to_string(queued.message.site_id) + "/mail/messages/" +
                                       std::to_string(queued.message.id));
  return response;
}

}  // namespace

void RegisterReplyRoutes(web::Router& router, ReplyRouteDeps deps, std::vector<web::Middleware> signed_in) {
  auto api = router.Group("/api/v1/inbox", std::move(signed_in));

  api.Post("/messages/{id}/reply", [deps](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "message");
    co_await blocking([&] { deps.inbox->GetMessage(caller, id); });  // 404 before any field error
    auto parsed = Parse(ctx, false);
    auto origin = audit::OriginOf(ctx);
    auto queued = co_await blocking([&] {
      const auto view = deps.inbox->GetMessage(caller, id);
      const auto account = deps.inbox->GetAccount(caller, view.message.account_id);
      const auto site_id = SendingSite(deps, caller, parsed, account);
      const auto draft = deps.inbox->Reply(caller, id, parsed.reply_all);
      auto& r = parsed.request;
      auto cc = Mailboxes(draft.cc);
      cc.insert(cc.end(), r.cc.begin(), r.cc.end());
      r.to = Mailboxes(draft.to);
      r.cc = std::move(cc);
      r.subject = draft.subject;
      r.in_reply_to = Bracketed(draft.in_reply_to);
      r.references.clear();
      for (const auto& ref : draft.references) r.references.push_back(Bracketed(ref));
      // The signature goes under the caller's text, above the quote.
      deps.composer->Apply(site_id, caller.user_id, parsed.compose, r);
      if (parsed.quote) AppendQuote(r.html, r.text, draft.quoted_text);
      return deps.messages->Enqueue(origin, site_id, std::move(r), parsed.options);
    });
    co_return Accepted(queued);
  });

  api.Post("/messages/{id}/forward", [deps](web::RequestContext& ctx) -> web::Task<web::Response> {
    const auto caller = Caller(ctx);
    const auto id = web::PathId(ctx, "id", "message");
    co_await blocking([&] { deps.inbox->GetMessage(caller, id); });  // 404 before any field error
    auto parsed = Parse(ctx, true);
    auto origin = audit::OriginOf(ctx);
    auto queued = co_await blocking([&] {
      const auto view = deps.inbox->GetMessage(caller, id);
      const auto account = deps.inbox->GetAccount(caller, view.message.account_id);
      const auto site_id = SendingSite(deps, caller, parsed, account);
      const auto draft = BuildForward(view.message);
      auto& r = parsed.request;
      r.subject = draft.subject;
      // The caller's note (with the signature) first, then the forwarded message; no note: the message alone.
      if (!r.html.empty() || !r.text.empty()) {
        deps.composer->Apply(site_id, caller.user_id, parsed.compose, r);
        if (!r.html.empty()) r.html += "\n" + draft.html;
        if (!r.text.empty()) r.text += (r.text.ends_with('\n') ? "\n" : "\n\n") + draft.text;
      } else {
        r.html = draft.html;
        r.text = draft.text;
      }
      // The original's attachments that were kept go along (those over the inbox's size limit were not).
      for (const auto& a : view.attachments) {
        if (a.path.empty()) continue;
        const auto file = deps.inbox->GetAttachment(caller, id, a.position);
        mail::Attachment attached;
        attached.filename = a.filename.empty() ? "attachment" : a.filename;
        attached.content_type = a.content_type.empty() ? "application/octet-stream" : a.content_type;
        attached.path = file.path.string();
        r.files.push_back(std::move(attached));
      }
      return deps.messages->Enqueue(origin, site_id, std::move(r), parsed.options);
    });
    co_return Accepted(queued);
  });
}

}  // namespace poste::inbox
