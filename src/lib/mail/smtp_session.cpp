#include "lib/mail/smtp_session.hpp"

#include <algorithm>
#include <cctype>

#include "lib/crypto/encoding.hpp"
#include "lib/net/http_client.hpp"
#include "lib/net/ip_address.hpp"

namespace poste::mail::smtp_detail {

namespace {

void Expect(const SmtpReply& reply, int first_digit) {
  if (reply.code / 100 != first_digit) throw Refused{Result(OutcomeOf(reply.code), reply.text)};
}

bool Offers(const std::vector<std::string>& ehlo, std::string_view keyword) {
  for (const auto& line : ehlo) {
    if (line.size() < keyword.size()) continue;
    if (!std::equal(keyword.begin(), keyword.end(), line.begin(),
                    [](char a, char b) { return a == std::toupper(static_cast<unsigned char>(b)); })) {
      continue;
    }
    if (line.size() == keyword.size() || line[keyword.size()] == ' ' || line[keyword.size()] == '=') return true;
  }
  return false;
}

std::string Base64(std::string_view bytes) { return crypto::Base64Encode(std::string(bytes)); }

}  // namespace

DeliveryResult Result(DeliveryOutcome outcome, std::string answer) {
  DeliveryResult r;
  r.outcome = outcome;
  r.answer = std::move(answer);
  return r;
}

DeliveryOutcome OutcomeOf(int code) {
  if (code >= 200 && code < 400) return DeliveryOutcome::kSent;
  return code >= 500 ? DeliveryOutcome::kPermanent : DeliveryOutcome::kTemporary;
}

// Greeting, EHLO, STARTTLS and EHLO again, AUTH: a connection ready for mail, or Refused / SmtpWireError.
void Open(Session& s, const SmtpOptions& o) {
  s.wire.reset();
  if (o.host.empty()) throw Refused{Result(DeliveryOutcome::kPermanent, "no SMTP host configured")};
  const auto literal = net::IpAddress::Parse(o.host);
  std::vector<net::IpAddress> addresses;
  try {
    addresses = literal ? std::vector<net::IpAddress>{*literal} : net::Resolve(o.host, o.port);
  } catch (const net::HttpError&) {
    throw Refused{Result(DeliveryOutcome::kTemporary, "could not resolve " + o.host)};
  }
  if (literal || !o.policy.HostListed(o.host)) {
    for (const auto& a : addresses) {
      if (!o.policy.AddressAllowed(a)) {
        throw Refused{Result(DeliveryOutcome::kPermanent,
                             o.host + " resolves to " + a.ToString() +
                                 ", which mail accounts may not reach (see mail.smtp_allow_targets)")};
      }
    }
  }
  // Only the checked addresses are connected to: a name that resolves elsewhere later is not followed.
  auto wire = std::make_unique<SmtpWire>(addresses, o.port, o.connect_timeout);
  wire->SetTimeout(o.total_timeout);
  if (o.tls == SmtpTls::kImplicit) wire->StartTls(o.host, o.verify_tls, o.ca_file);
  Expect(wire->ReadReply(), 2);
  const std::string ehlo = "EHLO " + o.helo_name + "\r\n";
  wire->Write(ehlo);
  SmtpReply hello = wire->ReadReply();
  if (o.tls == SmtpTls::kStartTls) {
    if (hello.code / 100 != 2 || !Offers(hello.lines, "STARTTLS")) {
      throw Refused{Result(DeliveryOutcome::kPermanent, o.host + ":" + std::to_string(o.port) +
                                                            " does not offer STARTTLS, which the account requires")};
    }
    wire->Write("STARTTLS\r\n");
    Expect(wire->ReadReply(), 2);
    wire->StartTls(o.host, o.verify_tls, o.ca_file);
    wire->Write(ehlo);
    hello = wire->ReadReply();
  }
  if (hello.code / 100 != 2) {  // an old server: HELO, without extensions
    wire->Write("HELO " + o.helo_name + "\r\n");
    Expect(wire->ReadReply(), 2);
    hello = {};
  }
  s.pipelining = Offers(hello.lines, "PIPELINING");
  switch (o.auth) {
    case SmtpAuth::kNone:
      break;
    case SmtpAuth::kPlain:
      wire->Write("AUTH PLAIN " + Base64(std::string(1, '\0') + o.username + '\0' + o.password) + "\r\n");
      Expect(wire->ReadReply(), 2);
      break;
    case SmtpAuth::kLogin:
      wire->Write("AUTH LOGIN\r\n");
      Expect(wire->ReadReply(), 3);
      wire->Write(Base64(o.username) + "\r\n");
      Expect(wire->ReadReply(), 3);
      wire->Write(Base64(o.password) + "\r\n");
      Expect(wire->ReadReply(), 2);
      break;
    case SmtpAuth::kXoauth2: {
      // "\x01" "auth": one literal "\x01auth" would be the byte 0x1a then "uth" (hex escapes take every hex digit).
      wire->Write("AUTH XOAUTH2 " +
                  Base64("user=" + o.username + "\x01" + "auth=Bearer " + o.bearer_token + "\x01\x01") + "\r\n");
      SmtpReply reply = wire->ReadReply();
      if (reply.code == 334) {  // the error, as base64 JSON: an empty line ends the exchange with the final code
        wire->Write("\r\n");
        reply = wire->ReadReply();
      }
      Expect(reply, 2);
      break;
    }
  }
  s.wire = std::move(wire);
}

DeliveryResult WireFailure(const SmtpOptions& o, const SmtpWireError& e) {
  const std::string where = o.host + ":" + std::to_string(o.port);
  const std::string what = e.what();
  switch (e.kind()) {
    case SmtpWireError::Kind::kUntrusted:
      return Result(DeliveryOutcome::kPermanent, "the TLS certificate of " + where + " is not trusted (" + what +
                                                     "; is its CA in the system's store or in mail.tls_ca_file?)");
    case SmtpWireError::Kind::kSetup:
      return Result(DeliveryOutcome::kPermanent, what + " (" + where + ")");
    case SmtpWireError::Kind::kTimeout:
      return Result(DeliveryOutcome::kTemporary, "timed out talking to " + where);
    case SmtpWireError::Kind::kConnection:
      break;
  }
  if (what.starts_with("could not connect")) return Result(DeliveryOutcome::kTemporary, what);
  return Result(DeliveryOutcome::kTemporary, what + " (" + where + ")");
}

void Quit(Session& session) {
  if (!session.wire) return;
  try {  // a server that does not answer quickly is not waited for
    session.wire->SetTimeout(std::chrono::milliseconds(1000));
    session.wire->Write("QUIT\r\n");
    session.wire->ReadReply();
  } catch (const SmtpWireError&) {
  }
  session.wire.reset();
}

}  // namespace poste::mail::smtp_detail
