#include "lib/mail/smtp_client.hpp"

#include <algorithm>
#include <cctype>
#include <optional>

#include "lib/crypto/encoding.hpp"
#include "lib/mail/smtp_session.hpp"
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

namespace {

using smtp_detail::OutcomeOf;
using smtp_detail::Refused;
using smtp_detail::Result;

// A kept connection the server closed or timed out while idle is opened again.
void EnsureOpen(SmtpTransport::State& state) {
  auto& s = state.single;
  if (s.wire && s.wire->HasUnreadInput()) s.wire.reset();
  if (!s.wire) {
    smtp_detail::Open(s, state.options);
    ++state.sockets;
  }
}

// One transaction on the open connection. MAIL, RCPT and DATA go together when the server pipelines.
DeliveryResult Transact(smtp_detail::Session& s, const Delivery& d) {
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
      std::string data;
      AppendDotStuffed(data, d.built->bytes);
      wire.Write(data);
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
  smtp_detail::Quit(state_->single);
  for (auto& session : state_->many) smtp_detail::Quit(session);
}

int SmtpTransport::connections() const { return state_->sockets; }

DeliveryResult SmtpTransport::Send(const Delivery& delivery) {
  if (!delivery.built) return Result(DeliveryOutcome::kPermanent, "nothing to send");
  if (delivery.recipients.empty()) return Result(DeliveryOutcome::kPermanent, "no recipients");
  auto& wire = state_->single.wire;
  // A kept connection may fail at its first write (the server dropped it): one new connection is tried, as
  // long as nothing was committed.
  for (int attempt = 0;; ++attempt) {
    const bool reused = wire != nullptr;
    try {
      EnsureOpen(*state_);
      return Transact(state_->single, delivery);
    } catch (const Refused& r) {
      wire.reset();
      return r.result;
    } catch (const SmtpWireError& e) {
      wire.reset();
      const bool retry = reused && attempt == 0 && e.kind() == SmtpWireError::Kind::kConnection;
      if (!retry) return smtp_detail::WireFailure(state_->options, e);
    } catch (...) {  // on_commit threw: the connection may be inside DATA
      wire.reset();
      throw;
    }
  }
}

DeliveryResult SmtpTransport::Check() {
  auto& wire = state_->single.wire;
  try {
    wire.reset();  // a check tests the whole way in: connection, TLS and login
    EnsureOpen(*state_);
    wire->Write("NOOP\r\n");
    const SmtpReply reply = wire->ReadReply();
    return Result(OutcomeOf(reply.code), reply.text);
  } catch (const Refused& r) {
    wire.reset();
    return r.result;
  } catch (const SmtpWireError& e) {
    wire.reset();
    return smtp_detail::WireFailure(state_->options, e);
  }
}

}  // namespace poste::mail
