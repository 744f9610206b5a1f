#include "lib/mail/smtp_wire.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace poste::mail {

namespace {

constexpr std::size_t kMaxReplyBytes = 64 * 1024;  // a reply longer than this is hostile: the connection ends
constexpr std::size_t kMaxKeptReply = 4000;        // what is kept of a reply to show

std::string Printable(std::string_view raw) {
  std::string line(raw.substr(0, 998));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  for (auto& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) c = '?';
  }
  return line;
}

std::string TlsErrorText() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "TLS failed";
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

int WaitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc;
}

}  // namespace

struct SmtpWire::Tls {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  ~Tls() {
    if (ssl) SSL_free(ssl);
    if (ctx) SSL_CTX_free(ctx);
  }
};

SmtpWire::SmtpWire(const std::vector<net::IpAddress>& addresses, std::uint16_t port, std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  std::string last = "no address to connect to";
  for (const auto& a : addresses) {
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (a.v6) {
      auto* s6 = reinterpret_cast<sockaddr_in6*>(&storage);
      s6->sin6_family = AF_INET6;
      s6->sin6_port = htons(port);
      std::memcpy(&s6->sin6_addr, a.bytes.data(), 16);
      length = sizeof(sockaddr_in6);
    } else {
      auto* s4 = reinterpret_cast<sockaddr_in*>(&storage);
      s4->sin_family = AF_INET;
      s4->sin_port = htons(port);
      std::memcpy(&s4->sin_addr, a.bytes.data(), 4);
      length = sizeof(sockaddr_in);
    }
    const int fd = ::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&storage), length);
    if (rc < 0 && errno == EINPROGRESS) {
      rc = WaitFor(fd, POLLOUT, timeout) == 1 ? 0 : -1;
      int error = 0;
      socklen_t size = sizeof error;
      if (rc == 0 && (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0 || error != 0)) rc = -1;
    }
    if (rc < 0) {
      last = "could not connect to " + a.ToString() + ":" + std::to_string(port);
      ::close(fd);
      continue;
    }
    // Non-blocking from here: the calls that wait do it in poll, bounded by the timeout. Commands are written
    // whole, so Nagle would only delay them.
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fd_ = fd;
    return;
  }
  throw SmtpWireError(last);
}

SmtpWire::~SmtpWire() {
  tls_.reset();
  if (fd_ >= 0) ::close(fd_);
}

void SmtpWire::SetTimeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }

void SmtpWire::StartTls(const std::string& host, bool verify, const std::string& ca_file) {
  auto tls = std::make_unique<Tls>();
  tls->ctx = SSL_CTX_new(TLS_client_method());
  if (!tls->ctx) throw SmtpWireError("TLS could not start: " + TlsErrorText(), SmtpWireError::Kind::kSetup);
  SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION);
  if (verify) {
    // A private CA is trusted besides the system's, so public servers (Gmail, Outlook) still verify.
    const bool loaded = SSL_CTX_set_default_verify_paths(tls->ctx) == 1 &&
                        (ca_file.empty() || SSL_CTX_load_verify_locations(tls->ctx, ca_file.c_str(), nullptr) == 1);
    if (!loaded) {
      throw SmtpWireError("TLS could not load the trusted certificates (" + (ca_file.empty() ? "system" : ca_file) +
                              "): " + TlsErrorText(),
                          SmtpWireError::Kind::kSetup);
    }
    SSL_CTX_set_verify(tls->ctx, SSL_VERIFY_PEER, nullptr);
  }
  tls->ssl = SSL_new(tls->ctx);
  if (!tls->ssl) throw SmtpWireError("TLS could not start: " + TlsErrorText());
  const bool literal = net::IpAddress::Parse(host).has_value();
  if (!literal) SSL_set_tlsext_host_name(tls->ssl, host.c_str());  // SNI carries names only
  if (verify) {
    X509_VERIFY_PARAM* param = SSL_get0_param(tls->ssl);
    const int ok = literal ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) : SSL_set1_host(tls->ssl, host.c_str());
    if (ok != 1) throw SmtpWireError("TLS could not check the name " + host, SmtpWireError::Kind::kSetup);
  }
  SSL_set_fd(tls->ssl, fd_);
  for (;;) {
    const int rc = SSL_connect(tls->ssl);
    if (rc == 1) break;
    const int error = SSL_get_error(tls->ssl, rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      if (WaitFor(fd_, error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, timeout_) != 1) {
        throw SmtpWireError("timed out in the TLS handshake", SmtpWireError::Kind::kTimeout);
      }
      continue;
    }
    const long result = SSL_get_verify_result(tls->ssl);
    if (result != X509_V_OK) {
      ERR_clear_error();
      throw SmtpWireError(X509_verify_cert_error_string(result), SmtpWireError::Kind::kUntrusted);
    }
    throw SmtpWireError("TLS handshake failed: " + TlsErrorText());
  }
  tls_ = std::move(tls);
}

void SmtpWire::Wait(short events, const char* doing) {
  if (WaitFor(fd_, events, timeout_) != 1) {
    throw SmtpWireError(std::string("timed out ") + doing, SmtpWireError::Kind::kTimeout);
  }
}

void SmtpWire::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    long n;
    if (tls_) {
      n = SSL_write(tls_->ssl, bytes.data(), static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 30)));
      if (n <= 0) {
        const int error = SSL_get_error(tls_->ssl, static_cast<int>(n));
        if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) {
          throw SmtpWireError("the connection failed while writing: " + TlsErrorText());
        }
        // The same bytes again once the socket is ready, as OpenSSL requires.
        Wait(error == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, "writing to the server");
        continue;
      }
    } else {
      n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        Wait(POLLOUT, "writing to the server");
        continue;
      }
      if (n <= 0) throw SmtpWireError(std::string("the connection failed while writing: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::size_t SmtpWire::TryRead() {
  char chunk[16384];
  for (;;) {
    long n;
    if (tls_) {
      n = SSL_read(tls_->ssl, chunk, sizeof chunk);
      if (n <= 0) {
        const int error = SSL_get_error(tls_->ssl, static_cast<int>(n));
        if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return 0;
        ERR_clear_error();
        throw SmtpWireError("the server closed the connection");
      }
    } else {
      n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
      if (n <= 0) throw SmtpWireError("the server closed the connection");
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return static_cast<std::size_t>(n);
  }
}

void SmtpWire::ReadAvailable() {
  // Bounded: a server that floods gets its connection ended by TakeReply, not our memory.
  while (buffer_.size() <= kMaxReplyBytes && TryRead() > 0) {
  }
}

std::optional<SmtpReply> SmtpWire::TakeReply() {
  // Finds the reply's last line first, so that a partial reply leaves the buffer as it was.
  std::size_t end = 0;
  bool whole = false;
  for (;;) {
    const auto eol = buffer_.find('\n', end);
    if (eol == std::string::npos) break;
    const std::string_view line(buffer_.data() + end, eol - end);
    end = eol + 1;
    if (line.size() < 4 || line[3] != '-') {
      whole = true;
      break;
    }
  }
  if (!whole) {
    if (buffer_.size() > kMaxReplyBytes) throw SmtpWireError("the server's reply is too long");
    return std::nullopt;
  }
  if (end > kMaxReplyBytes) throw SmtpWireError("the server's reply is too long");
  SmtpReply reply;
  std::size_t at = 0;
  while (at < end) {
    const auto eol = buffer_.find('\n', at);
    const std::string line = Printable(std::string_view(buffer_).substr(at, eol - at));
    at = eol + 1;
    const bool is_reply = line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
                          std::isdigit(static_cast<unsigned char>(line[1])) &&
                          std::isdigit(static_cast<unsigned char>(line[2]));
    if (!is_reply) throw SmtpWireError("the server sent something that is not an SMTP reply: " + line.substr(0, 200));
    if (reply.text.size() < kMaxKeptReply) reply.text += (reply.text.empty() ? "" : "\n") + line;
    if (reply.lines.size() < 200) reply.lines.push_back(line.size() > 4 ? line.substr(4) : std::string());
    if (line.size() == 3 || line[3] == ' ') {
      reply.code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
    } else if (line[3] != '-') {
      throw SmtpWireError("the server sent a malformed reply: " + line.substr(0, 200));
    }
  }
  buffer_.erase(0, end);
  return reply;
}

SmtpReply SmtpWire::ReadReply() {
  for (;;) {
    if (auto reply = TakeReply()) return std::move(*reply);
    if (TryRead() == 0) Wait(POLLIN, "waiting for the server");
  }
}

bool SmtpWire::HasUnreadInput() {
  if (!buffer_.empty() || (tls_ && SSL_pending(tls_->ssl) > 0)) return true;
  return WaitFor(fd_, POLLIN, std::chrono::milliseconds(0)) != 0;
}

void AppendDotStuffed(std::string& out, std::string_view message) {
  out.reserve(out.size() + message.size() + message.size() / 64 + 8);
  // Whole lines at a time: a "." is added before each line that starts with one.
  std::size_t at = 0;
  while (at < message.size()) {
    if (message[at] == '.') out.push_back('.');
    const auto eol = message.find('\n', at);
    const std::size_t next = eol == std::string_view::npos ? message.size() : eol + 1;
    out.append(message.data() + at, next - at);
    at = next;
  }
  if (!message.empty() && !message.ends_with("\r\n")) out.append("\r\n");
  out.append(".\r\n");
}

}  // namespace poste::mail
