#pragma once
// Single outgoing messages: what a caller asks to send (MessageRequest: the API, and later campaigns and
// templates), the stored message with its state and delivery outcome, and their JSON mapping.
//
// States: queued -> sending -> sent | failed | cancelled. A temporary failure puts the message back to
// queued (retried later); cancel is possible while queued (scheduled or awaiting a retry).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/error.hpp"
#include "lib/mail/address.hpp"
#include "lib/mail/mime.hpp"

namespace poste::mail {

inline constexpr std::string_view kSendJobKind = "mail.send";
inline constexpr int kMaxMessageListLimit = 100;
inline constexpr std::size_t kMaxAttachments = 20;
inline constexpr std::size_t kMaxBodyBytes = 2u << 20;  // html and text, each
inline constexpr std::size_t kMaxIdempotencyKey = 200;
// Caps of ParseMessageRequest, so a hostile body cannot make it build (or report errors for) millions of
// entries: custom headers, references, each header name / value and message id.
inline constexpr std::size_t kMaxCustomHeaders = 50;
inline constexpr std::size_t kMaxReferences = 100;
inline constexpr std::size_t kMaxHeaderNameBytes = 76;
inline constexpr std::size_t kMaxHeaderValueBytes = 998;
inline constexpr std::size_t kMaxMessageIdBytes = 998;

enum class MessageState { kQueued, kSending, kSent, kFailed, kCancelled };
std::string_view MessageStateName(MessageState state);
std::optional<MessageState> ParseMessageState(std::string_view name);

struct MessageRequest {
  std::optional<std::int64_t> account_id;  // default: the site's default account, else its outbox
  std::vector<Mailbox> to, cc, bcc;
  std::optional<Mailbox> reply_to;
  std::string subject;
  std::string html;
  std::string text;                                          // empty with html: derived from the HTML when built
  std::vector<std::pair<std::string, std::string>> headers;  // custom headers (X-...)
  std::string in_reply_to;
  std::vector<std::string> references;
  std::vector<std::int64_t> attachments;   // media ids of the site's library
  std::optional<std::int64_t> send_at_ms;  // scheduled; default: now
  std::string list_unsubscribe_url;        // campaigns (RFC 8058)
  std::string list_unsubscribe_mailto;
  // Files attached as they are (a forwarded message's attachments, kept by the inbox under the data
  // directory). Never read from an API body: only the server's own code sets them.
  std::vector<Attachment> files;
};

// What POST .../mail/messages may ask beyond the message itself: a template of the site rendered with the
// variables (the request's own subject, html and text override the template's), and the sender's signature
// for the site appended to the bodies.
struct ComposeRequest {
  std::optional<std::int64_t> template_id;
  nlohmann::json variables = nlohmann::json::object();
  bool signature = false;  // default: no signature
};

struct Message {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::optional<std::int64_t> account_id;  // none: the site's implicit outbox
  MessageState state = MessageState::kQueued;
  MessageRequest request;
  std::string message_id;  // "<...>", fixed at creation: every retry sends the same
  std::optional<std::string> idempotency_key;
  int attempts = 0;
  std::string provider_message_id;
  std::string last_error;  // the server's exact last answer of a failed try
  std::vector<std::string> refused_recipients;
  std::optional<std::int64_t> created_by;
  std::optional<std::int64_t> sent_at;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

struct MessageFilter {
  std::optional<MessageState> state;
  std::string recipient;  // an address of To, Cc, Bcc or Reply-To (case-insensitive); empty: any
  int limit = 20;
  std::optional<std::int64_t> cursor;  // next_cursor of the previous page
};

struct MessagePage {
  std::vector<Message> items;  // newest first
  std::optional<std::int64_t> next_cursor;
};

// The request as stored (and as the API shows it): {to, cc, bcc: [{email, name}], reply_to, subject, html,
// text, headers: [{name, value}], in_reply_to, references, attachments, send_at, list_unsubscribe_url,
// list_unsubscribe_mailto}.
nlohmann::json RequestToJson(const MessageRequest& request);
// The stored form back; never throws (what does not fit is left out).
MessageRequest RequestFromJson(const nlohmann::json& json);

// {id, site_id, account_id|null, state, message_id, to, cc, bcc, reply_to, subject, send_at|null, attempts,
//  provider_message_id, last_error, refused_recipients, idempotency_key|null, sent_at|null, created_at,
//  updated_at} and, with `full`, html, text, headers, in_reply_to, references, attachments.
nlohmann::json ToJson(const Message& message, bool full);

// The API body of POST .../mail/messages into a request, with field errors: recipients as "a@b.c",
// "Name <a@b.c>" or {"email", "name"}; headers as {"Name": "value"} or [{"name", "value"}]; references as an
// array or a space-separated string. send_at is returned as text (the service reads it in the site's zone).
// With `compose`, "template_id", "variables" and "signature" are read too, and a template makes subject and
// bodies optional (it provides them). Lists are capped (recipients, headers, references): past a cap one
// "too_many" error is reported and the rest is not read.
MessageRequest ParseMessageRequest(const nlohmann::json& body, std::optional<std::string>& send_at,
                                   std::optional<std::string>& idempotency_key, std::vector<FieldError>& errors,
                                   ComposeRequest* compose = nullptr);

// Subject and body required (after a template was applied): adds "required" errors.
void RequireContent(const MessageRequest& request, std::vector<FieldError>& errors);

}  // namespace poste::mail
