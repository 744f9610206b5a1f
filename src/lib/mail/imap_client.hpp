#pragma once
// A blocking IMAP client for mailbox syncs: libcurl connects (imap:// or imaps://, STARTTLS with
// CURLOPT_USE_SSL, certificate checks, SASL PLAIN / LOGIN) and stops once signed in (CURLOPT_CONNECT_ONLY);
// Poste then speaks IMAP on that connection itself, reading answers with imap_response.hpp. libcurl's own
// IMAP commands cannot serve a sync: a CUSTOMREQUEST drops the literal that carries a message, and the
// ;UID= URL fetches with BODY[] (which marks the message \Seen). One client = one connection, reused for
// every command of a sync. Not thread-safe; every call blocks (run it off the I/O threads).
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/mail/imap_response.hpp"
#include "lib/net/target_policy.hpp"

namespace poste::mail::imap {

enum class Tls { kNone, kStartTls, kImplicit };

struct ClientConfig {
  std::string host;
  int port = 0;  // 0: 143, or 993 with kImplicit
  Tls tls = Tls::kStartTls;
  std::string username;
  std::string password;
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds read_timeout{30000};  // the longest wait for the next bytes of an answer
  ResponseLimits limits;
  // Which addresses the connection may reach (a user-given host must not reach this server's neighbours).
  net::TargetPolicy policy;
  bool verify_peer = true;  // TLS certificate and host name checks
  std::string ca_file;      // a PEM CA bundle to check the server's certificate with ("": libcurl's default)
};

struct FetchedMessage {
  std::uint32_t uid = 0;
  std::vector<std::string> flags;
  std::optional<std::string> bytes;  // nullopt when larger than limits.max_literal
  std::size_t size = 0;              // as the server announced it
};

class Client {
 public:
  explicit Client(ClientConfig config);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Connects, upgrades to TLS as configured and signs in. Throws ImapError (kConnect, kTls, kAuth, kTimeout).
  void Connect();

  // Opens a mailbox read-only (EXAMINE) or read-write (SELECT). Throws kRefused when it does not exist.
  MailboxInfo Examine(std::string_view mailbox);
  MailboxInfo Select(std::string_view mailbox);
  // The UIDs >= first_uid of the open mailbox, ascending ("UID SEARCH UID n:*"; the servers' answer for
  // n:* beyond the last UID, the last message, is filtered out).
  std::vector<std::uint32_t> UidSearchFrom(std::uint32_t first_uid);
  // A whole message without setting \Seen ("UID FETCH n (UID FLAGS BODY.PEEK[])"); nullopt when the UID
  // is gone.
  std::optional<FetchedMessage> Fetch(std::uint32_t uid);
  // Only the header section (for a message too large to fetch whole).
  std::optional<FetchedMessage> FetchHeader(std::uint32_t uid);
  // "UID STORE n +FLAGS.SILENT (flags)" on the mailbox opened with Select. Flags are atoms like \Seen.
  void AddFlags(std::uint32_t uid, const std::vector<std::string>& flags);
  void Create(std::string_view mailbox);
  void Delete(std::string_view mailbox);
  // Appends a message to a mailbox (used by tests to fill a mailbox; also a building block for Sent).
  void Append(std::string_view mailbox, std::string_view message);
  // Says goodbye; errors are ignored (the connection closes either way).
  void Logout();

  // Runs one command (the text after the tag) and returns its untagged answers; throws kRefused for NO
  // or BAD with the server's text.
  std::vector<Response> Command(std::string_view command);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "imap://host:port/" or "imaps://host:port/" for the config (IPv6 hosts bracketed).
std::string ClientUrl(const ClientConfig& config);

}  // namespace poste::mail::imap
