#pragma once
// Replying to and forwarding a received message through the send path: POST /api/v1/inbox/messages/{id}/reply
// and POST /api/v1/inbox/messages/{id}/forward queue a normal single message of a site (the same states,
// retries, webhooks and delivery log as POST /api/v1/sites/{site}/mail/messages), built with
// inbox_reply.hpp: In-Reply-To, References, "Re:" and the quoted text; "Fwd:" with the original's headers
// and text, and its kept attachments attached again.
//
// Who may: a caller who sees the message (the inbox module's access: the account's owner, or the members of
// the site of a shared inbox; 404 otherwise) and who may send for the chosen site ("site": the shared
// inbox's site by default; a site out of the caller's reach is a 422 on "site", like an account_id of
// another site).
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {
class MailMessagesService;
class MessageComposer;
}  // namespace poste::mail

namespace poste::inbox {

class InboxService;

struct ReplyRouteDeps {
  InboxService* inbox = nullptr;
  mail::MailMessagesService* messages = nullptr;
  mail::MessageComposer* composer = nullptr;
  // Blocking: a site's id for its id or slug, nullopt when there is no such site.
  std::function<std::optional<std::int64_t>(std::string_view id_or_slug)> resolve_site;
};

void RegisterReplyRoutes(web::Router& router, ReplyRouteDeps deps, std::vector<web::Middleware> signed_in);

}  // namespace poste::inbox
