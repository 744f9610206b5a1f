#include "lib/mail/smtp_client.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "lib/crypto/encoding.hpp"
#include "lib/mail/smtp_wire.hpp"
#include "lib/net/http_client.hpp"
#include "lib/net/ip_address.hpp"

namespace poste::mail {

net::TargetPolicy SmtpTargetPolicy(const std::vector<std::string>& extra) {
  std::vector<std::string> entries = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"};
  entries.insert(entries.end(), extra.begin(), extra.end());
  return net::TargetPolicy::WithAllowList(entries);
}

std::string QueueIdOf(const std::string& answer) {
  static constexpr std::string_view kMarker = "queued as ";
  auto at = answer.find(kMarker);
  if (at == std::string::npos) return {};
  std::string id;
  for (char c : answer.substr(at + kMarker.size())) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '@') break;
    id += c;
  }
  return id.substr(0, 200);
}

struct SmtpTransport::State {
  SmtpOptions options;
  std::unique_ptr<SmtpWire> wire;  // the open connection, greeted, secured and authenticated
  bool pipelining = false;         // the server offers PIPELINING (RFC 2920)
  int sockets = 0;
};

namespace {

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

// A reply that ends the attempt: its outcome, and its text as the answer.
struct Refused {
  DeliveryResult result;
};

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

// Greeting, EHLO, STARTTLS and EHLO again, AUTH: a connection ready for mail, or Refused / SmtpWireError.
void Open(SmtpTransport::State& s) {
  const auto& o = s.options;
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
  ++s.sockets;
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
      wire->Write("AUTH XOAUTH2 " + Base64("user=" + o.username + "\x01auth=Bearer " + o.bearer_token + "\x01\x01") +
                  "\r\n");
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

DeliveryResult WireFailure(const SmtpTransport::State& s, const SmtpWireError& e) {
  const std::string where = s.options.host + ":" + std::to_string(s.options.port);
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

// A kept connection the server closed or timed out while idle is opened again.
void EnsureOpen(SmtpTransport::State& s) {
  if (s.wire && s.wire->HasUnreadInput()) s.wire.reset();
  if (!s.wire) Open(s);
}

// One transaction on the open connection. MAIL, RCPT and DATA go together when the server pipelines.
DeliveryResult Transact(SmtpTransport::State& s, const Delivery& d) {
  SmtpWire& wire = *s.wire;
  std::vector<std::string> commands;
  commands.push_back("MAIL FROM:<" + d.envelope_from + ">\r\n");
  for (const auto& r : d.recipients) commands.push_back("RCPT TO:<" + r + ">\r\n");
  commands.push_back("DATA\r\n");
  std::vector<SmtpReply> replies;
  if (s.pipelining) {
    std::string all;
    for (const auto& c : commands) all += c;
    wire.Write(all);
    for (std::size_t i = 0; i < commands.size(); ++i) replies.push_back(wire.ReadReply());
  } else {
    for (std::size_t i = 0; i < commands.size(); ++i) {
      wire.Write(commands[i]);
      replies.push_back(wire.ReadReply());
      const bool stop = (i == 0 && replies[0].code / 100 != 2);
      if (stop) break;
    }
  }
  DeliveryResult result;
  if (replies[0].code / 100 != 2) {
    result = Result(OutcomeOf(replies[0].code), replies[0].text);
  } else {
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < d.recipients.size() && i + 1 < replies.size(); ++i) {
      if (replies[i + 1].code / 100 == 2) {
        ++accepted;
      } else {
        result.refused_recipients.push_back(d.recipients[i]);
        result.answer = replies[i + 1].text;
        result.outcome = OutcomeOf(replies[i + 1].code);
      }
    }
    const SmtpReply* data = replies.size() == commands.size() ? &replies.back() : nullptr;
    if (data && data->code == 354) {
      if (accepted == 0 || (d.on_commit && !d.on_commit())) {
        // Inside DATA nothing but the end of data is understood: dropping the connection is the only way out
        // that sends nothing.
        s.wire.reset();
        if (accepted == 0) return result;
        return Result(DeliveryOutcome::kTemporary, "not sent: the campaign stopped this recipient");
      }
      wire.Write(DotStuffed(d.built->bytes));
      const SmtpReply end = wire.ReadReply();
      DeliveryResult sent = Result(OutcomeOf(end.code), end.text);
      if (sent.outcome == DeliveryOutcome::kSent) sent.provider_message_id = QueueIdOf(end.text);
      sent.refused_recipients = std::move(result.refused_recipients);
      return sent;
    }
    if (accepted > 0 || !data) result = Result(OutcomeOf(data ? data->code : 554), data ? data->text : "no DATA");
  }
  // The transaction failed before any data: the connection stays usable after RSET.
  wire.Write("RSET\r\n");
  if (wire.ReadReply().code / 100 != 2) s.wire.reset();
  return result;
}

}  // namespace

SmtpTransport::SmtpTransport(SmtpOptions options) : state_(std::make_unique<State>()) {
  state_->options = std::move(options);
}

SmtpTransport::~SmtpTransport() {
  if (!state_->wire) return;
  try {  // a polite end; a server that does not answer quickly is not waited for
    state_->wire->SetTimeout(std::chrono::milliseconds(1000));
    state_->wire->Write("QUIT\r\n");
    state_->wire->ReadReply();
  } catch (const SmtpWireError&) {
  }
}

int SmtpTransport::connections() const { return state_->sockets; }

DeliveryResult SmtpTransport::Send(const Delivery& delivery) {
  if (!delivery.built) return Result(DeliveryOutcome::kPermanent, "nothing to send");
  if (delivery.recipients.empty()) return Result(DeliveryOutcome::kPermanent, "no recipients");
  // A kept connection may fail at its first write (the server dropped it): one new connection is tried, as
  // long as nothing was committed.
  for (int attempt = 0;; ++attempt) {
    const bool reused = state_->wire != nullptr;
    try {
      EnsureOpen(*state_);
      return Transact(*state_, delivery);
    } catch (const Refused& r) {
      state_->wire.reset();
      return r.result;
    } catch (const SmtpWireError& e) {
      state_->wire.reset();
      const bool retry = reused && attempt == 0 && e.kind() == SmtpWireError::Kind::kConnection;
      if (!retry) return WireFailure(*state_, e);
    } catch (...) {  // on_commit threw: the connection may be inside DATA
      state_->wire.reset();
      throw;
    }
  }
}

DeliveryResult SmtpTransport::Check() {
  try {
    state_->wire.reset();  // a check tests the whole way in: connection, TLS and login
    Open(*state_);
    state_->wire->Write("NOOP\r\n");
    const SmtpReply reply = state_->wire->ReadReply();
    return Result(OutcomeOf(reply.code), reply.text);
  } catch (const Refused& r) {
    state_->wire.reset();
    return r.result;
  } catch (const SmtpWireError& e) {
    state_->wire.reset();
    return WireFailure(*state_, e);
  }
}

}  // namespace poste::mail
