#pragma once
// A small blocking HTTP client over libcurl for outbound calls (webhook deliveries, mail and AI provider
// APIs). Every request goes through the target policy (the SSRF guard): the client resolves the host
// itself, refuses it when any of its addresses is not allowed, pins libcurl to the addresses it checked
// (CURLOPT_RESOLVE) and checks again each address libcurl actually connects to (CURLOPT_OPENSOCKETFUNCTION),
// so a DNS answer that changes between the check and the connection (DNS rebinding) cannot get through.
// Redirects are never followed: a 3xx is returned as it is, and the caller decides. Proxies from the
// environment are ignored (a proxy would connect on our behalf, past the checks).
//
// Blocking: call it through co_await blocking(...) from a coroutine.
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/net/http_url.hpp"
#include "lib/net/ip_address.hpp"
#include "lib/net/target_policy.hpp"

namespace poste::net {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // names and values without CR/LF
  std::string body;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{10000};
  std::size_t max_response_bytes = 64 * 1024;  // kept of the body; the rest is read and dropped
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased, in order
  std::string body;                                          // at most max_response_bytes
  bool truncated = false;
  std::int64_t elapsed_ms = 0;

  // The value of the first header named `lower_name` (lower case, as the names are kept); "" when absent.
  std::string Header(std::string_view lower_name) const;
};

enum class HttpErrorKind { kInvalidRequest, kRefusedTarget, kResolve, kConnect, kTimeout, kTls, kTransfer };

class HttpError : public std::runtime_error {
 public:
  HttpError(HttpErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  HttpErrorKind kind() const { return kind_; }

 private:
  HttpErrorKind kind_;
};

struct HttpClientOptions {
  std::string user_agent = "Poste";
  TargetPolicy policy;  // default: public addresses only
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options);

  // Any HTTP status is a response (check it); throws HttpError when no response came.
  HttpResponse Send(const HttpRequest& request) const;

  // What Send checks before connecting: the addresses the URL's host may be reached at (all of them
  // allowed). Throws HttpError kInvalidRequest, kResolve or kRefusedTarget.
  std::vector<IpAddress> CheckTarget(const HttpUrl& url) const;

  const TargetPolicy& policy() const { return options_.policy; }

 private:
  HttpClientOptions options_;
};

// The host's addresses (getaddrinfo, TCP); throws HttpError kResolve when there are none.
std::vector<IpAddress> Resolve(const std::string& host, std::uint16_t port);

}  // namespace poste::net
