#pragma once
// What the two ways of sending over SMTP share (smtp_client.cpp: one message at a time; smtp_send_all.cpp:
// several connections driven by one thread): opening a connection, and what replies and failures mean.
#include <memory>
#include <string>
#include <vector>

#include "lib/mail/smtp_client.hpp"
#include "lib/mail/smtp_wire.hpp"

namespace poste::mail::smtp_detail {

struct Session {
  std::unique_ptr<SmtpWire> wire;  // open, greeted, secured and authenticated
  bool pipelining = false;         // the server offers PIPELINING (RFC 2920)
};

// A reply that ends the attempt: its outcome, and its text as the answer.
struct Refused {
  DeliveryResult result;
};

DeliveryResult Result(DeliveryOutcome outcome, std::string answer);
// 2xx and 3xx sent (or going on), 4xx temporary, 5xx permanent.
DeliveryOutcome OutcomeOf(int code);
// Greeting, EHLO, STARTTLS and EHLO again, AUTH: `session` ready for mail, or Refused / SmtpWireError.
void Open(Session& session, const SmtpOptions& options);
// A connection that failed, in words an API answer can show, with the outcome it means.
DeliveryResult WireFailure(const SmtpOptions& options, const SmtpWireError& e);
// A polite end: QUIT, waiting a second at most for its answer.
void Quit(Session& session);

}  // namespace poste::mail::smtp_detail

namespace poste::mail {

struct SmtpTransport::State {
  SmtpOptions options;
  smtp_detail::Session single;             // Send's connection
  std::vector<smtp_detail::Session> many;  // SendAll's, kept between calls like Send's
  int sockets = 0;                         // connections opened so far
};

}  // namespace poste::mail
