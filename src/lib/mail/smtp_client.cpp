#include "lib/mail/smtp_client.hpp"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>

#include "lib/net/http_client.hpp"
#include "lib/net/ip_address.hpp"

namespace poste::mail {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

std::string Trim(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
  return std::string(line);
}

// A server's reply line as it can be stored and shown: printable ASCII (anything else becomes '?'), without
// its line end, at most kMaxLine characters. SMTP replies are ASCII; a hostile server gets no further.
std::string Printable(std::string_view raw) {
  std::string line = Trim(raw.substr(0, 998));
  for (auto& c : line) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) c = '?';
  }
  return line;
}

bool IsReplyLine(std::string_view line) {
  return line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
         std::isdigit(static_cast<unsigned char>(line[1])) && std::isdigit(static_cast<unsigned char>(line[2]));
}

// Strips the envelope brackets curl adds around an address in "RCPT TO:<a@b.c>".
std::string RcptAddress(std::string_view command) {
  auto open = command.find('<'), close = command.rfind('>');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return {};
  return std::string(command.substr(open + 1, close - open - 1));
}

}  // namespace

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
  CURL* curl = nullptr;
  int sockets = 0;
  // Per transfer.
  std::vector<net::IpAddress> allowed;
  bool refused_socket = false;
  std::string pending;  // lines of the reply being read (multi-line replies)
  std::string last_answer;
  std::string last_rcpt;  // the recipient of the RCPT TO waiting for its reply
  bool quitting = false;  // QUIT sent: its "221 Bye" is not the answer worth reporting
  std::vector<std::string> refused;
  std::vector<std::string> refused_answers;
  const std::string* upload = nullptr;
  std::size_t upload_at = 0;
  const std::function<bool()>* on_commit = nullptr;
  bool committed = false;
  bool aborted = false;  // on_commit said no

  void Reset() {
    refused_socket = false;
    pending.clear();
    last_answer.clear();
    last_rcpt.clear();
    quitting = false;
    refused.clear();
    refused_answers.clear();
    upload = nullptr;
    upload_at = 0;
    on_commit = nullptr;
    committed = false;
    aborted = false;
  }

  void OnServerLine(std::string_view raw) {
    if (quitting) return;
    // One reply line ("250-..." continues, "250 ..." ends); curl may hand several lines at once.
    while (!raw.empty()) {
      auto end = raw.find('\n');
      std::string line = Printable(raw.substr(0, end));
      raw = end == std::string_view::npos ? std::string_view() : raw.substr(end + 1);
      if (line.empty()) continue;
      if (pending.size() < 4000) pending += (pending.empty() ? "" : "\n") + line;  // a reply of 4 KB says enough
      if (IsReplyLine(line) && (line.size() == 3 || line[3] == ' ')) {
        last_answer = std::move(pending);
        pending.clear();
        if (!last_rcpt.empty()) {
          if (last_answer[0] == '4' || last_answer[0] == '5') {
            refused.push_back(last_rcpt);
            refused_answers.push_back(last_answer);
          }
          last_rcpt.clear();
        }
      }
    }
  }

  void OnCommand(std::string_view command) {
    // Only the command's name is looked at: AUTH lines carry credentials and are never kept.
    if (command.starts_with("QUIT")) quitting = true;
    if (command.size() >= 8 && std::equal(command.begin(), command.begin() + 8, "RCPT TO:", [](char a, char b) {
          return std::toupper(static_cast<unsigned char>(a)) == b;
        })) {
      last_rcpt = RcptAddress(command);
    }
  }
};

namespace {

int OnDebug(CURL*, curl_infotype type, char* data, std::size_t size, void* user) {
  auto& s = *static_cast<SmtpTransport::State*>(user);
  if (type == CURLINFO_HEADER_IN) s.OnServerLine(std::string_view(data, size));
  if (type == CURLINFO_HEADER_OUT) s.OnCommand(std::string_view(data, size));
  return 0;
}

curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto& s = *static_cast<SmtpTransport::State*>(user);
  auto ip = net::IpAddress::FromSockaddr(&address->addr);
  if (purpose != CURLSOCKTYPE_IPCXN || !ip || std::find(s.allowed.begin(), s.allowed.end(), *ip) == s.allowed.end()) {
    s.refused_socket = true;
    return CURL_SOCKET_BAD;
  }
  ++s.sockets;
  return ::socket(address->family, address->socktype, address->protocol);
}

std::size_t OnRead(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& s = *static_cast<SmtpTransport::State*>(user);
  if (!s.upload) return 0;
  const std::size_t n = std::min(size * count, s.upload->size() - s.upload_at);
  if (s.upload_at + n == s.upload->size() && !s.committed) {
    // These are the last bytes: with the size known (CURLOPT_INFILESIZE) libcurl sends them and then the
    // final "." without asking again, and after that the server has the message. Commit before handing
    // them out.
    s.committed = true;
    if (s.on_commit && *s.on_commit && !(*s.on_commit)()) {
      s.aborted = true;
      return CURL_READFUNC_ABORT;
    }
  }
  std::memcpy(buffer, s.upload->data() + s.upload_at, n);
  s.upload_at += n;
  return n;
}

DeliveryResult Result(DeliveryOutcome outcome, std::string answer) {
  DeliveryResult r;
  r.outcome = outcome;
  r.answer = std::move(answer);
  return r;
}

}  // namespace

SmtpTransport::SmtpTransport(SmtpOptions options) : state_(std::make_unique<State>()) {
  GlobalInit();
  state_->options = std::move(options);
  state_->curl = curl_easy_init();
  if (!state_->curl) throw std::runtime_error("libcurl could not start a transfer");
}

SmtpTransport::~SmtpTransport() {
  if (state_->curl) curl_easy_cleanup(state_->curl);  // sends QUIT on the open connection
}

int SmtpTransport::connections() const { return state_->sockets; }

// Shared by Send and Check: sets the handle up for one transfer (the connection cache survives
// curl_easy_reset) and runs it. `upload` null: a NOOP command instead of a message.
static DeliveryResult Perform(SmtpTransport::State& s, const std::string* upload, const std::string& from,
                              const std::vector<std::string>& recipients,
                              const std::function<bool()>* on_commit = nullptr) {
  const auto& o = s.options;
  s.Reset();
  if (o.host.empty()) return Result(DeliveryOutcome::kPermanent, "no SMTP host configured");
  const bool literal = net::IpAddress::Parse(o.host).has_value();
  try {
    if (literal) {
      s.allowed = {*net::IpAddress::Parse(o.host)};
    } else {
      s.allowed = net::Resolve(o.host, o.port);
    }
  } catch (const net::HttpError&) {
    return Result(DeliveryOutcome::kTemporary, "could not resolve " + o.host);
  }
  if (literal || !o.policy.HostListed(o.host)) {
    for (const auto& a : s.allowed) {
      if (!o.policy.AddressAllowed(a)) {
        return Result(DeliveryOutcome::kPermanent,
                      o.host + " resolves to " + a.ToString() +
                          ", which mail accounts may not reach (see mail.smtp_allow_targets)");
      }
    }
  }

  CURL* c = s.curl;
  curl_easy_reset(c);
  const bool v6 = literal && o.host.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + o.host + "]" : o.host;
  const std::string url = std::string(o.tls == SmtpTls::kImplicit ? "smtps://" : "smtp://") + host + ":" +
                          std::to_string(o.port) + "/" + o.helo_name;
  Slist resolve, rcpt;
  if (!literal) {
    std::string pinned;
    for (const auto& a : s.allowed)
      pinned += (pinned.empty() ? "" : ",") + (a.v6 ? "[" + a.ToString() + "]" : a.ToString());
    resolve.reset(curl_slist_append(nullptr, (o.host + ":" + std::to_string(o.port) + ":" + pinned).c_str()));
    curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  }
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(o.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_USE_SSL,
                   o.tls == SmtpTls::kNone ? static_cast<long>(CURLUSESSL_NONE) : static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, o.verify_tls ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, o.verify_tls ? 2L : 0L);
  if (!o.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_file.c_str());
  switch (o.auth) {
    case SmtpAuth::kNone:
      break;
    case SmtpAuth::kPlain:
    case SmtpAuth::kLogin:
      curl_easy_setopt(c, CURLOPT_USERNAME, o.username.c_str());
      curl_easy_setopt(c, CURLOPT_PASSWORD, o.password.c_str());
      curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, o.auth == SmtpAuth::kPlain ? "AUTH=PLAIN" : "AUTH=LOGIN");
      break;
    case SmtpAuth::kXoauth2:
      curl_easy_setopt(c, CURLOPT_USERNAME, o.username.c_str());
      curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, o.bearer_token.c_str());
      curl_easy_setopt(c, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
      break;
  }
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &s);
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, &OnDebug);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &s);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);  // the debug callback sees the dialogue; nothing is printed
  const std::string mail_from = "<" + from + ">";
  if (upload) {
    for (const auto& r : recipients) rcpt.reset(curl_slist_append(rcpt.release(), ("<" + r + ">").c_str()));
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
    // Recipients refused one by one do not stop the others; all refused fails the transfer.
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(upload->size()));
    curl_easy_setopt(c, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(c, CURLOPT_READDATA, &s);
    s.upload = upload;
    s.on_commit = on_commit;
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "NOOP");
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  }

  const CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  if (IsReplyLine(s.last_answer)) code = std::stol(s.last_answer.substr(0, 3));  // not the QUIT's 221
  DeliveryResult r;
  r.answer = s.last_answer;
  if (s.refused_socket)
    return Result(DeliveryOutcome::kPermanent, "the connection went to an address that was not checked");
  if (rc == CURLE_OK) {
    r.outcome = DeliveryOutcome::kSent;
    r.provider_message_id = QueueIdOf(r.answer);
    r.refused_recipients = s.refused;
    return r;
  }
  const std::string where = o.host + ":" + std::to_string(o.port);
  if (r.answer.empty() || code < 400) {
    // No SMTP answer to quote: say what went wrong on the way.
    r.answer = rc == CURLE_COULDNT_CONNECT      ? "could not connect to " + where
               : rc == CURLE_OPERATION_TIMEDOUT ? "timed out talking to " + where
               : rc == CURLE_PEER_FAILED_VERIFICATION
                   ? "the TLS certificate of " + where + " is not trusted (" + curl_easy_strerror(rc) +
                         "; is its CA in the system's store or in mail.tls_ca_file?)"
               : rc == CURLE_USE_SSL_FAILED ? where + " does not offer STARTTLS, which the account requires"
                                            : std::string(curl_easy_strerror(rc)) + " (" + where + ")";
    if (!s.last_answer.empty()) r.answer += "; last answer: " + s.last_answer;
  }
  if (code >= 500 && code < 600) {
    r.outcome = DeliveryOutcome::kPermanent;
  } else if (code >= 400 && code < 500) {
    r.outcome = DeliveryOutcome::kTemporary;
  } else {
    switch (rc) {
      case CURLE_USE_SSL_FAILED:  // the server offers no STARTTLS: configuration, not luck
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_LOGIN_DENIED:
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        r.outcome = DeliveryOutcome::kPermanent;
        break;
      default:
        r.outcome = DeliveryOutcome::kTemporary;
    }
  }
  r.refused_recipients = s.refused;
  return r;
}

DeliveryResult SmtpTransport::Send(const Delivery& delivery) {
  if (!delivery.built) return Result(DeliveryOutcome::kPermanent, "nothing to send");
  if (delivery.recipients.empty()) return Result(DeliveryOutcome::kPermanent, "no recipients");
  return Perform(*state_, &delivery.built->bytes, delivery.envelope_from, delivery.recipients, &delivery.on_commit);
}

DeliveryResult SmtpTransport::Check() { return Perform(*state_, nullptr, {}, {}); }

}  // namespace poste::mail
