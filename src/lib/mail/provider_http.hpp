#pragma once
// What the HTTP mail providers (SendGrid, Amazon SES) and the OAuth2 token endpoints share: how an HTTP
// status or a transport error becomes a delivery outcome, and how a provider's answer is kept for the
// delivery log (bounded, printable, valid UTF-8) whatever the provider sent.
#include <string>
#include <string_view>

#include "lib/mail/delivery.hpp"
#include "lib/net/http_client.hpp"

namespace poste::mail {

inline constexpr std::size_t kMaxAnswer = 1000;  // bytes of a provider's answer kept in a DeliveryResult

// 2xx: sent; 408, 429 and 5xx: retry later; anything else: permanent.
DeliveryOutcome OutcomeOfStatus(int status);

// Transport errors: timeouts, refused connections, DNS and TLS failures are temporary (the provider may
// come back); a refused target or an invalid request is the account's configuration: permanent.
DeliveryOutcome OutcomeOfHttpError(net::HttpErrorKind kind);
DeliveryResult ResultOfHttpError(const net::HttpError& error);

// `text` made fit for an answer: invalid UTF-8 replaced, control characters (CR, LF, TAB too) turned into
// spaces, runs of spaces made one, at most max_bytes (cut on a character boundary, "..." appended). Also what
// the mail module stores of any transport's answer (a multi-line SMTP reply becomes one line).
std::string CleanAnswer(std::string_view text, std::size_t max_bytes = kMaxAnswer);

// "HTTP 400: <body>" (the body cleaned; "HTTP 400" alone when it is empty).
std::string HttpAnswer(int status, std::string_view body);

}  // namespace poste::mail
