#pragma once
// Absolute http:// and https:// URLs as outbound requests take them (webhook targets, provider APIs):
// parsed strictly, so that what is checked against the target policy is what libcurl will connect to.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace poste::net {

inline constexpr std::size_t kMaxUrlBytes = 2048;

struct HttpUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 literal without its brackets
  std::uint16_t port = 0;
  bool host_is_ip = false;
  std::string target;  // path and query, "/" at least
};

// Refused, with the reason in *why: other schemes, user info ("user:pass@"), fragments, an empty or
// malformed host (labels of [a-z0-9-] or an IP literal; IPv6 zone ids refused), a bad port, spaces, control
// or non-ASCII characters, more than kMaxUrlBytes.
std::optional<HttpUrl> ParseHttpUrl(std::string_view text, std::string* why = nullptr);

}  // namespace poste::net
