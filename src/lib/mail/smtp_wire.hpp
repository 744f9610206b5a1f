#pragma once
// One SMTP connection's bytes: a TCP socket to an address already checked by the caller, TLS with OpenSSL
// (implicit, or started after STARTTLS) with the server's certificate and name verified, and SMTP replies
// read whole (multi-line, bounded). The socket is non-blocking: Write, StartTls and ReadReply wait (with a
// timeout) like blocking calls, while ReadAvailable and TakeReply let one thread drive several connections
// from a poll() over their fd(). Used by one thread at a time.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/net/ip_address.hpp"

namespace poste::mail {

// Raised for a connection that failed: what() says how, in words a log or an API answer can show.
class SmtpWireError : public std::runtime_error {
 public:
  enum class Kind {
    kConnection,  // refused, closed, reset: worth another try later
    kTimeout,
    kUntrusted,  // the server's certificate did not verify
    kSetup,      // TLS cannot be set up here (an unreadable CA file): a configuration problem
  };
  explicit SmtpWireError(const std::string& what, Kind kind = Kind::kConnection)
      : std::runtime_error(what), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct SmtpReply {
  int code = 0;                    // 0 when the line was not a reply
  std::string text;                // the reply's lines joined by "\n", printable ASCII, at most ~4 KB
  std::vector<std::string> lines;  // each line's text after the code and separator (EHLO's keywords)
};

class SmtpWire {
 public:
  // Connects to the first address that answers within `timeout`.
  SmtpWire(const std::vector<net::IpAddress>& addresses, std::uint16_t port, std::chrono::milliseconds timeout);
  ~SmtpWire();
  SmtpWire(const SmtpWire&) = delete;
  SmtpWire& operator=(const SmtpWire&) = delete;

  // TLS handshake on the connection; `host` is the name (or address) the certificate must carry.
  // The system's trust store, plus the certificates of `ca_file` when set. verify false: no checks.
  void StartTls(const std::string& host, bool verify, const std::string& ca_file);
  void Write(std::string_view bytes);
  // Waits for the next whole reply.
  SmtpReply ReadReply();
  // Without waiting: reads what the socket holds (all of it, so that nothing stays hidden in TLS's buffer
  // from the next poll). Throws when the server closed the connection or sent too much at once.
  void ReadAvailable();
  // The next whole reply among the bytes read so far, if there is one. Throws for what is not a reply.
  std::optional<SmtpReply> TakeReply();
  int fd() const { return fd_; }
  // Whether the server sent something (or closed) while we were not waiting for it: an idle connection the
  // server gave up on.
  bool HasUnreadInput();
  void SetTimeout(std::chrono::milliseconds timeout);

 private:
  // Appends what can be read now to buffer_: the number of bytes (0 when nothing is there yet).
  std::size_t TryRead();
  void Wait(short events, const char* doing);

  int fd_ = -1;
  struct Tls;
  std::unique_ptr<Tls> tls_;
  std::string buffer_;
  std::chrono::milliseconds timeout_;
};

// The bytes of a message as DATA sends them, appended to `out`: lines starting with "." get another one, a
// missing final CRLF is added, and "." ends it.
void AppendDotStuffed(std::string& out, std::string_view message);

}  // namespace poste::mail
