#include "lib/mail/imap_client.hpp"

#include <curl/curl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "lib/net/ip_address.hpp"

namespace poste::mail::imap {

namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// Host names and IP literals only: nothing that could change the URL's meaning.
bool ValidHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  return std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '_';
  });
}

bool HasControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

// The server's text in an error message: one line, bounded.
std::string Excerpt(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 300)) out += (static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  return out;
}

struct SocketCheck {
  const net::TargetPolicy* policy = nullptr;
  bool host_listed = false;
  bool refused = false;
  std::string refused_address;
};

// Every address libcurl connects to passes the policy (DNS answers included, whatever they are).
curl_socket_t OnOpenSocket(void* data, curlsocktype /*purpose*/, curl_sockaddr* address) {
  auto* check = static_cast<SocketCheck*>(data);
  if (!check->host_listed) {
    auto ip = net::IpAddress::FromSockaddr(&address->addr);
    if (!ip || !check->policy->AddressAllowed(*ip)) {
      check->refused = true;
      check->refused_address = ip ? ip->ToString() : "an unknown address";
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

}  // namespace

std::string ClientUrl(const ClientConfig& config) {
  const bool implicit = config.tls == Tls::kImplicit;
  const int port = config.port > 0 ? config.port : (implicit ? 993 : 143);
  const bool v6 = config.host.find(':') != std::string::npos;
  return std::string(implicit ? "imaps://" : "imap://") + (v6 ? "[" : "") + config.host + (v6 ? "]" : "") + ":" +
         std::to_string(port) + "/";
}

struct Client::Impl {
  ClientConfig config;
  std::unique_ptr<CURL, CurlDeleter> curl;
  curl_socket_t socket = CURL_SOCKET_BAD;
  ResponseReader reader;
  int next_tag = 1;
  bool broken = false;  // after a transport or protocol error the connection's state is unknown

  explicit Impl(ClientConfig c) : config(std::move(c)), reader(config.limits) {}

  void Wait(short events) {
    pollfd p{socket, events, 0};
    const int timeout = static_cast<int>(config.read_timeout.count());
    int rc = 0;
    do {
      rc = ::poll(&p, 1, timeout);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
      broken = true;
      throw ImapError(ErrorKind::kTimeout, "the IMAP server did not answer in time");
    }
  }

  void Send(std::string_view bytes) {
    if (broken || !curl) throw ImapError(ErrorKind::kProtocol, "the IMAP connection is not usable");
    while (!bytes.empty()) {
      std::size_t sent = 0;
      const CURLcode rc = curl_easy_send(curl.get(), bytes.data(), bytes.size(), &sent);
      if (rc == CURLE_AGAIN) {
        Wait(POLLOUT);
        continue;
      }
      if (rc != CURLE_OK) {
        broken = true;
        throw ImapError(ErrorKind::kConnect,
                        std::string("sending to the IMAP server failed: ") + curl_easy_strerror(rc));
      }
      bytes.remove_prefix(sent);
    }
  }

  Response Read() {
    try {
      while (true) {
        if (auto r = reader.Next()) return std::move(*r);
        char buffer[16384];
        std::size_t got = 0;
        const CURLcode rc = curl_easy_recv(curl.get(), buffer, sizeof buffer, &got);
        if (rc == CURLE_AGAIN) {
          Wait(POLLIN);
          continue;
        }
        if (rc != CURLE_OK) {
          throw ImapError(ErrorKind::kConnect,
                          std::string("reading from the IMAP server failed: ") + curl_easy_strerror(rc));
        }
        if (got == 0) throw ImapError(ErrorKind::kProtocol, "the IMAP server closed the connection");
        reader.Feed(std::string_view(buffer, got));
      }
    } catch (const ImapError&) {
      broken = true;
      throw;
    }
  }

  // Sends "<tag> command", hands each continuation request to on_continue, and collects the untagged
  // answers until the tagged one.
  std::vector<Response> Run(std::string_view command, std::string_view continuation = {}) {
    if (HasControl(command)) throw ImapError(ErrorKind::kInvalid, "an IMAP command with a control character");
    const std::string tag = "P" + std::to_string(next_tag++);
    Send(tag + " " + std::string(command) + "\r\n");
    std::vector<Response> untagged;
    bool continued = false;
    while (true) {
      Response r = Read();
      if (r.tag == "+") {
        if (continued || continuation.empty()) {
          broken = true;
          throw ImapError(ErrorKind::kProtocol, "an unexpected continuation request from the IMAP server");
        }
        continued = true;
        Send(continuation);
        Send("\r\n");
        continue;
      }
      if (r.untagged()) {
        if (untagged.size() >= 1000000) {
          broken = true;
          throw ImapError(ErrorKind::kProtocol, "too many answers to one IMAP command");
        }
        untagged.push_back(std::move(r));
        continue;
      }
      if (r.tag != tag) {
        broken = true;
        throw ImapError(ErrorKind::kProtocol, "an IMAP answer with another command's tag");
      }
      const Status status = ParseStatus(r.text);
      if (status.condition != "OK") {
        throw ImapError(ErrorKind::kRefused,
                        "the IMAP server answered " + status.condition + ": " + Excerpt(status.text));
      }
      return untagged;
    }
  }

  std::optional<FetchedMessage> FetchOne(std::uint32_t uid, std::string_view section) {
    auto answers = Run("UID FETCH " + std::to_string(uid) + " (UID FLAGS BODY.PEEK[" + std::string(section) + "])");
    for (const auto& a : answers) {
      auto data = ParseFetch(a);
      // Servers may add unsolicited FETCH answers (flag changes of other messages): only ours counts.
      if (!data || !data->uid || *data->uid != uid) continue;
      if (!data->body && !data->body_dropped) throw ImapError(ErrorKind::kProtocol, "a FETCH answer without the body");
      FetchedMessage m;
      m.uid = uid;
      m.flags = std::move(data->flags);
      m.bytes = std::move(data->body);
      m.size = data->body_size.value_or(0);
      return m;
    }
    return std::nullopt;
  }
};

Client::Client(ClientConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Client::~Client() = default;

void Client::Connect() {
  auto& c = impl_->config;
  if (!ValidHost(c.host)) throw ImapError(ErrorKind::kInvalid, "invalid IMAP host name");
  if (c.port < 0 || c.port > 65535) throw ImapError(ErrorKind::kInvalid, "invalid IMAP port");
  if (HasControl(c.username) || HasControl(c.password)) {
    throw ImapError(ErrorKind::kInvalid, "IMAP credentials with control characters");
  }
  impl_->curl.reset(curl_easy_init());
  CURL* curl = impl_->curl.get();
  if (!curl) throw ImapError(ErrorKind::kConnect, "libcurl could not start");
  const std::string url = ClientUrl(c);
  SocketCheck check{&c.policy, c.policy.HostListed(c.host), false, {}};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "imap,imaps");
  curl_easy_setopt(curl, CURLOPT_USERNAME, c.username.c_str());
  curl_easy_setopt(curl, CURLOPT_PASSWORD, c.password.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECT_ONLY, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(c.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>((c.connect_timeout + c.read_timeout).count()));
  curl_easy_setopt(curl, CURLOPT_USE_SSL, c.tls == Tls::kStartTls ? CURLUSESSL_ALL : CURLUSESSL_NONE);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, c.verify_peer ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, c.verify_peer ? 2L : 0L);
  if (!c.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, c.ca_file.c_str());
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, &check);
  const CURLcode rc = curl_easy_perform(curl);
  // The check lives on this frame: libcurl must not call back into it after Connect.
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETFUNCTION, nullptr);
  curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, nullptr);
  if (check.refused) {
    impl_->curl.reset();
    throw ImapError(ErrorKind::kConnect,
                    c.host + " resolves to " + check.refused_address + ", which is not a public address");
  }
  if (rc != CURLE_OK) {
    impl_->curl.reset();
    ErrorKind kind = ErrorKind::kConnect;
    if (rc == CURLE_LOGIN_DENIED) kind = ErrorKind::kAuth;
    if (rc == CURLE_OPERATION_TIMEDOUT) kind = ErrorKind::kTimeout;
    if (rc == CURLE_USE_SSL_FAILED || rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
        rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM) {
      kind = ErrorKind::kTls;
    }
    std::string why = curl_easy_strerror(rc);
    if (rc == CURLE_PEER_FAILED_VERIFICATION) {
      why = "its TLS certificate is not trusted (" + why + "; is its CA in the system's store or in mail.tls_ca_file?)";
    } else if (rc == CURLE_USE_SSL_FAILED) {
      why = "it does not offer STARTTLS, which the account requires";
    }
    throw ImapError(kind, std::string("IMAP connection to ") + c.host + " failed: " + why);
  }
  curl_socket_t socket = CURL_SOCKET_BAD;
  curl_easy_getinfo(curl, CURLINFO_ACTIVESOCKET, &socket);
  if (socket == CURL_SOCKET_BAD) {
    impl_->curl.reset();
    throw ImapError(ErrorKind::kConnect, "the IMAP connection closed after signing in");
  }
  impl_->socket = socket;
  impl_->broken = false;
}

std::vector<Response> Client::Command(std::string_view command) { return impl_->Run(command); }

MailboxInfo Client::Examine(std::string_view mailbox) {
  return ParseMailboxInfo(impl_->Run("EXAMINE " + Quote(mailbox)));
}

MailboxInfo Client::Select(std::string_view mailbox) {
  return ParseMailboxInfo(impl_->Run("SELECT " + Quote(mailbox)));
}

std::vector<std::uint32_t> Client::UidSearchFrom(std::uint32_t first_uid) {
  const std::uint32_t first = std::max<std::uint32_t>(first_uid, 1);
  auto uids = ParseSearch(impl_->Run("UID SEARCH UID " + std::to_string(first) + ":*"));
  uids.erase(std::remove_if(uids.begin(), uids.end(), [&](std::uint32_t uid) { return uid < first; }), uids.end());
  return uids;
}

std::optional<FetchedMessage> Client::Fetch(std::uint32_t uid) { return impl_->FetchOne(uid, ""); }

std::optional<FetchedMessage> Client::FetchHeader(std::uint32_t uid) { return impl_->FetchOne(uid, "HEADER"); }

void Client::AddFlags(std::uint32_t uid, const std::vector<std::string>& flags) {
  std::string list;
  for (const auto& flag : flags) {
    const bool atom = !flag.empty() && std::all_of(flag.begin(), flag.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '\\' || c == '$' || c == '_' || c == '-';
    });
    if (!atom) throw ImapError(ErrorKind::kInvalid, "an invalid IMAP flag");
    list += (list.empty() ? "" : " ") + flag;
  }
  impl_->Run("UID STORE " + std::to_string(uid) + " +FLAGS.SILENT (" + list + ")");
}

void Client::Create(std::string_view mailbox) { impl_->Run("CREATE " + Quote(mailbox)); }

void Client::Delete(std::string_view mailbox) { impl_->Run("DELETE " + Quote(mailbox)); }

void Client::Append(std::string_view mailbox, std::string_view message) {
  impl_->Run("APPEND " + Quote(mailbox) + " {" + std::to_string(message.size()) + "}", message);
}

void Client::Logout() {
  if (!impl_->curl || impl_->broken) return;
  try {
    impl_->Run("LOGOUT");
  } catch (const ImapError&) {
    // The connection closes either way.
  }
  impl_->curl.reset();
}

}  // namespace poste::mail::imap
