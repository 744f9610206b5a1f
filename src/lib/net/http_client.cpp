#include "lib/net/http_client.hpp"

#include <curl/curl.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "lib/validate/ascii.hpp"

namespace poste::net {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw HttpError(HttpErrorKind::kTransfer, "libcurl init");
  });
}

struct Transfer {
  std::size_t max_bytes = 0;
  HttpResponse* response = nullptr;
  const std::vector<IpAddress>* allowed = nullptr;
  bool refused_socket = false;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  auto& body = t.response->body;
  const std::size_t room = t.max_bytes > body.size() ? t.max_bytes - body.size() : 0;
  body.append(data, std::min(n, room));
  if (n > room) t.response->truncated = true;
  return n;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const std::size_t n = size * count;
  std::string_view line(data, n);
  // A new status line (after a 100 Continue) starts a new header block.
  if (line.starts_with("HTTP/")) {
    t.response->headers.clear();
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos || t.response->headers.size() >= 100) return n;
  std::string name = validate::ascii::ToLower(line.substr(0, colon));
  auto value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  t.response->headers.emplace_back(std::move(name), std::string(value.substr(0, 8192)));
  return n;
}

// The last line of defence: libcurl asks for every socket it connects with, and gets one only for an
// address that was checked.
curl_socket_t OnOpenSocket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto& t = *static_cast<Transfer*>(user);
  auto ip = IpAddress::FromSockaddr(&address->addr);
  if (purpose != CURLSOCKTYPE_IPCXN || !ip ||
      std::find(t.allowed->begin(), t.allowed->end(), *ip) == t.allowed->end()) {
    t.refused_socket = true;
    return CURL_SOCKET_BAD;
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

bool HasLineBreak(std::string_view text) { return text.find_first_of("\r\n") != std::string_view::npos; }

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::vector<IpAddress> Resolve(const std::string& host, std::uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0 || !found) throw HttpError(HttpErrorKind::kResolve, "could not resolve " + host);
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(found, &freeaddrinfo);
  std::vector<IpAddress> out;
  for (auto* a = found; a; a = a->ai_next) {
    auto ip = IpAddress::FromSockaddr(a->ai_addr);
    if (ip && std::find(out.begin(), out.end(), *ip) == out.end()) out.push_back(*ip);
  }
  if (out.empty()) throw HttpError(HttpErrorKind::kResolve, "could not resolve " + host);
  return out;
}

// libcurl is initialised by the first request, not here: clients are made at start-up, and libcurl is loaded
// on first use (cmake/LazyLibrary.cmake; idle RSS, bench/RESULTS.md).
HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) {}

std::vector<IpAddress> HttpClient::CheckTarget(const HttpUrl& url) const {
  std::vector<IpAddress> addresses;
  if (url.host_is_ip) {
    addresses.push_back(*IpAddress::Parse(url.host));
  } else {
    addresses = Resolve(url.host, url.port);
  }
  if (url.host_is_ip || !options_.policy.HostListed(url.host)) {
    for (const auto& a : addresses) {
      // Any refused address refuses the host: which one libcurl would pick is not ours to choose.
      if (!options_.policy.AddressAllowed(a)) {
        throw HttpError(HttpErrorKind::kRefusedTarget,
                        url.host + " resolves to " + a.ToString() + ", which is not a public address");
      }
    }
  }
  return addresses;
}

HttpResponse HttpClient::Send(const HttpRequest& request) const {
  std::string why;
  auto url = ParseHttpUrl(request.url, &why);
  if (!url) throw HttpError(HttpErrorKind::kInvalidRequest, "the URL " + why);
  if (request.method.empty() || HasLineBreak(request.method)) {
    throw HttpError(HttpErrorKind::kInvalidRequest, "invalid method");
  }
  const auto addresses = CheckTarget(*url);

  GlobalInit();
  std::unique_ptr<CURL, CurlDeleter> curl(curl_easy_init());
  if (!curl) throw HttpError(HttpErrorKind::kTransfer, "libcurl could not start a transfer");
  CURL* c = curl.get();
  std::unique_ptr<curl_slist, SlistDeleter> headers, resolve;
  for (const auto& [name, value] : request.headers) {
    if (name.empty() || HasLineBreak(name) || HasLineBreak(value) || name.find(':') != std::string::npos) {
      throw HttpError(HttpErrorKind::kInvalidRequest, "invalid header");
    }
    headers.reset(curl_slist_append(headers.release(), (name + ": " + value).c_str()));
  }
  headers.reset(curl_slist_append(headers.release(), "Expect:"));  // no 100-continue round trip
  if (!url->host_is_ip) {
    std::string pinned;
    for (const auto& a : addresses) {
      pinned += (pinned.empty() ? "" : ",") + (a.v6 ? "[" + a.ToString() + "]" : a.ToString());
    }
    resolve.reset(curl_slist_append(nullptr, (url->host + ":" + std::to_string(url->port) + ":" + pinned).c_str()));
  }

  HttpResponse response;
  Transfer transfer{request.max_response_bytes, &response, &addresses, false};
  const std::string canonical =
      url->scheme + "://" +
      (url->host_is_ip && url->host.find(':') != std::string::npos ? "[" + url->host + "]" : url->host) + ":" +
      std::to_string(url->port) + url->target;
  curl_easy_setopt(c, CURLOPT_URL, canonical.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_PROXY, "");
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  if (resolve) curl_easy_setopt(c, CURLOPT_RESOLVE, resolve.get());
  curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &OnOpenSocket);
  curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET" || !request.body.empty()) {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  if (request.method == "GET" && request.body.empty()) curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);

  const auto started = std::chrono::steady_clock::now();
  const CURLcode rc = curl_easy_perform(c);
  response.elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  if (transfer.refused_socket) {
    throw HttpError(HttpErrorKind::kRefusedTarget, "the connection went to an address that was not checked");
  }
  switch (rc) {
    case CURLE_OK:
      break;
    case CURLE_OPERATION_TIMEDOUT:
      throw HttpError(HttpErrorKind::kTimeout, "timed out after " + std::to_string(response.elapsed_ms) + " ms");
    case CURLE_COULDNT_RESOLVE_HOST:
      throw HttpError(HttpErrorKind::kResolve, "could not resolve " + url->host);
    case CURLE_COULDNT_CONNECT:
      throw HttpError(HttpErrorKind::kConnect, "could not connect to " + url->host + ":" + std::to_string(url->port));
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
      throw HttpError(HttpErrorKind::kTls, std::string("TLS: ") + curl_easy_strerror(rc));
    default:
      throw HttpError(HttpErrorKind::kTransfer, curl_easy_strerror(rc));
  }
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

std::string HttpResponse::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

}  // namespace poste::net
