#pragma once
// RFC 5322 / MIME messages built with GMime 3 from a plain struct. Bytes out are ready for SMTP DATA (after
// dot-stuffing, which the transport does), for a provider's raw-MIME API or for an .eml file.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/error.hpp"
#include "lib/mail/address.hpp"

namespace poste::mail {

inline constexpr std::size_t kMaxAttachmentBytes = 25u << 20;  // in all, as large providers allow
inline constexpr std::size_t kMaxRecipients = 1000;
inline constexpr std::size_t kMaxLine = 998;  // RFC 5322 §2.1.1, excluding CRLF

struct Attachment {
  std::string filename;  // UTF-8; '/' and '\' become '_'
  std::string content_type = "application/octet-stream";
  std::string bytes;       // the content, or (when empty)
  std::string path;        // a file read when the message is built
  std::string content_id;  // non-empty: inline (multipart/related), cid:<content_id>
};

struct OutgoingMessage {
  Mailbox from;
  std::vector<Mailbox> to;
  std::vector<Mailbox> cc;
  std::vector<Mailbox> bcc;  // envelope only: never written
  std::optional<Mailbox> reply_to;
  std::string subject;
  std::string html;
  std::string text;                                          // empty with html set: derived from the HTML (HtmlToText)
  std::string in_reply_to;                                   // a message id, with or without <>
  std::vector<std::string> references;                       // message ids, oldest first
  std::vector<std::pair<std::string, std::string>> headers;  // custom (X-...), checked by CheckCustomHeaderName
  std::vector<Attachment> attachments;
  std::string list_unsubscribe_url;     // https://... : List-Unsubscribe + List-Unsubscribe-Post (RFC 8058)
  std::string list_unsubscribe_mailto;  // mailto:...
  std::string message_id_domain;        // right side of the generated Message-ID; else the From domain
  std::string message_id;               // given instead of generated (a retry keeps its id); without <>
  std::optional<std::chrono::system_clock::time_point> date;  // default: now
};

struct BuiltMessage {
  std::string bytes;       // CRLF line ends, no line over 998 characters, 7-bit clean
  std::string message_id;  // as written: "<...>"
};

// Initialises GMime once per process; thread-safe. Build and parse call it.
void InitMime();

// Appends the problems of `message` as field errors named after the API's JSON ("from.email", "to[1].name",
// "subject", "headers[0].name", "attachments[2].filename", "list_unsubscribe_url"...).
void ValidateMessage(const OutgoingMessage& message, std::vector<FieldError>& errors);

// Validates (AppError::Validation on a bad field) and builds: multipart/alternative when there are a text
// and an HTML part, the HTML inside multipart/related when inline parts exist, all of it inside
// multipart/mixed when attachments exist. Names, subject and filenames in UTF-8 (RFC 2047 / 2231 with
// charset utf-8), bodies 7bit, quoted-printable or base64 as their bytes require, Date, Message-ID,
// MIME-Version. Thread-safe.
BuiltMessage BuildMessage(const OutgoingMessage& message);

// `email` as SMTP without SMTPUTF8 takes it: an IDN domain in punycode (IDNA), the local part unchanged.
std::string AsciiAddress(const std::string& email);

// Every address the message goes to (to, cc, bcc), for the SMTP envelope: ASCII (AsciiAddress), without
// duplicates (case-insensitive), in order.
std::vector<std::string> EnvelopeRecipients(const OutgoingMessage& message);

// A message id as written in headers: "<id>"; `id` may already carry the brackets. Empty when `id` is not
// a plausible id (printable ASCII without spaces or brackets, with an '@', at most 250 bytes).
std::string BracketMessageId(std::string_view id);

}  // namespace poste::mail
