#pragma once
// Messages from outside (IMAP sync, captured test mail, bounces) parsed with GMime 3 into plain structs.
// Parsing never fails on malformed input: what cannot be read is left out and `truncated` says limits cut it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/mail/address.hpp"

namespace poste::mail {

struct ParseLimits {
  std::size_t max_bytes = 50u << 20;  // larger input: AppError kPayloadTooLarge
  std::size_t max_parts = 500;        // MIME parts visited
  std::size_t max_depth = 20;         // multipart nesting followed
};

struct ParsedAttachment {
  std::string filename;      // decoded UTF-8 (RFC 2231 / 2047); may be empty
  std::string content_type;  // "type/subtype", lower case
  std::string content_id;    // without <>
  bool inline_part = false;  // Content-Disposition: inline
  std::string bytes;         // transfer encoding removed
};

struct ParsedMessage {
  std::optional<Mailbox> from;
  std::vector<Mailbox> to;
  std::vector<Mailbox> cc;
  std::vector<Mailbox> reply_to;
  std::string subject;                                       // decoded UTF-8
  std::string message_id;                                    // without <>
  std::string in_reply_to;                                   // without <>
  std::vector<std::string> references;                       // without <>, oldest first
  std::optional<int64_t> date;                               // Unix seconds
  std::vector<std::pair<std::string, std::string>> headers;  // the top-level headers, values decoded UTF-8
  std::string text;                                          // the first text/plain body part, UTF-8, LF line ends
  std::string html;                                          // the first text/html body part, UTF-8, LF line ends
  std::vector<ParsedAttachment> attachments;  // every other leaf part; message/rfc822 parts as their bytes
  bool truncated = false;                     // max_parts or max_depth left parts out

  // The first header of that name (case-insensitive), or nullptr.
  const std::string* Header(std::string_view name) const;
};

// Parses RFC 5322 bytes (CRLF or LF). Text is converted to UTF-8 from its declared charset (invalid bytes
// become U+FFFD). Thread-safe.
ParsedMessage ParseMessage(std::string_view bytes, const ParseLimits& limits = {});

}  // namespace poste::mail
