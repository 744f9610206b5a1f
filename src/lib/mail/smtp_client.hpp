#pragma once
// SMTP delivery (plain, STARTTLS or implicit TLS with OpenSSL; AUTH PLAIN / LOGIN / XOAUTH2) on Poste's own
// client (smtp_wire): libcurl's SMTP waits for each reply and cannot pipeline, and its per-message set-up
// was most of a campaign's CPU. MAIL, RCPT and DATA go in one write when the server offers PIPELINING
// (RFC 2920), the message and its final "." in another: two round trips a message. One SmtpTransport keeps
// its connection open, so consecutive Send calls of a batch reuse it (no new TCP / TLS / EHLO / AUTH per
// message); an idle connection the server closed is opened again. SendAll keeps several connections busy
// from one thread (a campaign's lane). Answers are mapped to DeliveryResult: 2xx
// sent, 4xx and connection failures / timeouts temporary, 5xx and refused certificates permanent, with the
// server's exact last answer.
//
// Targets go through a TargetPolicy like the HTTP client's: the host is resolved here, checked, pinned
// (CURLOPT_RESOLVE) and every socket libcurl opens is checked again. SmtpTargetPolicy() is the usual one for
// mail: public and private networks (a relay on the LAN is normal for self-hosters), never loopback,
// link-local (cloud metadata) or other special addresses unless listed.
//
// Blocking; one transport is used by one thread at a time.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lib/mail/delivery.hpp"
#include "lib/net/target_policy.hpp"

namespace poste::mail {

enum class SmtpTls { kNone, kStartTls, kImplicit };
enum class SmtpAuth { kNone, kPlain, kLogin, kXoauth2 };

struct SmtpOptions {
  std::string host;
  std::uint16_t port = 587;
  SmtpTls tls = SmtpTls::kStartTls;
  SmtpAuth auth = SmtpAuth::kNone;
  std::string username;
  std::string password;                 // PLAIN / LOGIN
  std::string bearer_token;             // XOAUTH2: the OAuth2 access token
  std::string helo_name = "localhost";  // the EHLO argument
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds total_timeout{120000};  // per message
  bool verify_tls = true;
  std::string ca_file;  // PEM certificates to trust besides the system's (a private CA); empty: the system's only
  net::TargetPolicy policy = net::TargetPolicy::AllowAll();
};

// Public and private networks (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7) plus `extra` entries
// (networks, addresses, host names: e.g. "127.0.0.1" for a relay on the same machine). Throws
// std::invalid_argument for a malformed entry.
net::TargetPolicy SmtpTargetPolicy(const std::vector<std::string>& extra = {});

class SmtpTransport : public Transport {
 public:
  explicit SmtpTransport(SmtpOptions options);
  ~SmtpTransport() override;
  SmtpTransport(const SmtpTransport&) = delete;
  SmtpTransport& operator=(const SmtpTransport&) = delete;

  DeliveryResult Send(const Delivery& delivery) override;
  // Greeting, EHLO, STARTTLS and AUTH as configured, then NOOP: kSent with the NOOP's answer when the
  // account works; otherwise the outcome and the server's answer (e.g. "535 5.7.8 Authentication failed").
  DeliveryResult Check() override;
  // Up to `connections` connections (at most MaxConnections()) driven from this thread, each with one
  // message in flight: the message's data, its "." and the next message's MAIL, RCPT and DATA go in one
  // write when the server pipelines, so a message costs one round trip; the messages that reach their "." on
  // several connections at once are committed together (DeliverySource::Commit). The connections stay open
  // for the next call.
  void SendAll(DeliverySource& source, int connections) override;
  int MaxConnections() const override { return kMaxConnections; }
  static constexpr int kMaxConnections = 16;

  // TCP connections opened so far (a batch over one connection stays at 1).
  int connections() const;

  struct State;  // the easy handle and one transfer's dialogue (smtp_client.cpp)

 private:
  std::unique_ptr<State> state_;
};

// The id a server gave in its answer to DATA ("250 2.0.0 Ok: queued as 4F3A1" -> "4F3A1"), or "".
std::string QueueIdOf(const std::string& answer);

}  // namespace poste::mail
