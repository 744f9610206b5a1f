#pragma once
// Email addresses, display names and header fields as the mail engine accepts them from outside. Every
// check reports AppError field errors (field, code, message), so a route can answer problem+json as is.
//
// Codes: "required", "invalid_email", "header_injection" (CR, LF or NUL), "invalid_utf8",
// "invalid_characters" (another control character), "too_long", "invalid_header_name", "reserved_header".
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::mail {

inline constexpr std::size_t kMaxDisplayName = 200;  // characters
inline constexpr std::size_t kMaxHeaderValue = 900;  // bytes: one header line stays under SMTP's 998
inline constexpr std::size_t kMaxHeaderName = 76;

struct Mailbox {
  std::string name;   // display name in UTF-8; may be empty
  std::string email;  // local@domain; the domain may be an IDN in UTF-8
  bool operator==(const Mailbox&) const = default;
};

// local@domain where the local part is an ASCII dot-atom (RFC 5322 atext, at most 64 bytes) and the domain
// is a host name of at least two labels whose labels are either LDH ASCII (RFC 1123, punycode included) or
// UTF-8 (an IDN: letters beyond ASCII, digits, hyphens; no spaces, controls or ASCII punctuation); 254 bytes
// in all. Refused like most providers refuse them: quoted local parts, comments, IP literals, non-ASCII
// local parts (SMTPUTF8). No whitespace, CR/LF, NUL or other control character can pass.
bool IsValidAddress(std::string_view email);

// The address to store and send: trimmed, ASCII letters of the domain lower-cased.
std::string NormalizeAddress(std::string_view email);

// Parses "addr", "<addr>", "Name <addr>" and "\"Quoted, Name\" <addr>" (backslash escapes in the quotes).
// Errors are appended to `errors` under `field`; returns what was parsed (meaningless when errors were added).
Mailbox ParseMailbox(std::string_view text, std::string_view field, std::vector<FieldError>& errors);
// The same, throwing AppError::Validation on a bad value.
Mailbox ParseMailbox(std::string_view text, std::string_view field);

// Checks a mailbox built from separate fields (JSON {"email", "name"}); `field` prefixes "email" / "name".
void CheckMailbox(const Mailbox& mailbox, std::string_view field, std::vector<FieldError>& errors);
// Whether CheckMailbox finds nothing wrong (without making the fields' names).
bool IsValidMailbox(const Mailbox& mailbox);

// A display name: valid UTF-8, no control characters (CR/LF/NUL are "header_injection"), at most
// kMaxDisplayName characters.
void CheckDisplayName(std::string_view name, std::string_view field, std::vector<FieldError>& errors);

// Any header value (subject, custom header, List-Unsubscribe URL...): valid UTF-8, no CR/LF/NUL, no other
// control character but TAB, at most max_bytes.
void CheckHeaderValue(std::string_view value, std::string_view field, std::vector<FieldError>& errors,
                      std::size_t max_bytes = kMaxHeaderValue);

// A custom header's name: RFC 9110 token characters only, at most kMaxHeaderName, and not one of the
// headers the message builder writes itself (Content-*, MIME-Version, From, To, Subject, Date, Message-ID,
// DKIM-Signature, List-Unsubscribe...): those come from their own fields.
void CheckCustomHeaderName(std::string_view name, std::string_view field, std::vector<FieldError>& errors);
bool IsReservedHeader(std::string_view name);

// Throws AppError::Validation(errors) when errors is not empty.
void ThrowIfAny(std::vector<FieldError> errors);

}  // namespace poste::mail
