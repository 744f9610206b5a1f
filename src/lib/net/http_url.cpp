#include "lib/net/http_url.hpp"

#include <charconv>

#include "lib/net/ip_address.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::net {

namespace {

std::optional<HttpUrl> Refuse(std::string* why, const char* reason) {
  if (why) *why = reason;
  return std::nullopt;
}

bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  std::size_t label = 0;
  char previous = '.';
  for (char c : host) {
    if (c == '.') {
      if (label == 0 || previous == '-') return false;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
      if (label == 0 && c == '-') return false;
      if (++label > 63) return false;
    } else {
      return false;
    }
    previous = c;
  }
  return previous != '-' && (label > 0 || host.size() > 1);
}

}  // namespace

std::optional<HttpUrl> ParseHttpUrl(std::string_view text, std::string* why) {
  if (text.size() > kMaxUrlBytes) return Refuse(why, "is too long");
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7F) return Refuse(why, "holds spaces, control or non-ASCII characters");
  }
  HttpUrl url;
  const auto colon = text.find("://");
  if (colon == std::string_view::npos) return Refuse(why, "must be an absolute http:// or https:// URL");
  for (char c : text.substr(0, colon)) url.scheme += validate::ascii::ToLower(c);
  if (url.scheme != "http" && url.scheme != "https") return Refuse(why, "must use http or https");
  std::string_view rest = text.substr(colon + 3);
  if (rest.find('#') != std::string_view::npos) return Refuse(why, "must not have a fragment");
  const auto path_at = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_at);
  url.target = path_at == std::string_view::npos ? "/" : std::string(rest.substr(path_at));
  if (url.target.front() == '?') url.target.insert(url.target.begin(), '/');
  if (authority.find('@') != std::string_view::npos) return Refuse(why, "must not hold a user name or password");
  std::string_view host = authority, port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return Refuse(why, "has a malformed IPv6 address");
    host = authority.substr(1, close - 1);
    auto after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return Refuse(why, "has a malformed host");
    if (!after.empty()) port = after.substr(1);
    auto ip = IpAddress::Parse(host);
    if (!ip || !ip->v6) return Refuse(why, "has a malformed IPv6 address");
    url.host = ip->ToString();
    url.host_is_ip = true;
  } else {
    const auto port_at = authority.rfind(':');
    if (port_at != std::string_view::npos) {
      host = authority.substr(0, port_at);
      port = authority.substr(port_at + 1);
    }
    for (char c : host) url.host += validate::ascii::ToLower(c);
    if (!url.host.empty() && url.host.back() == '.') url.host.pop_back();
    if (auto ip = IpAddress::Parse(url.host)) {
      url.host = ip->ToString();
      url.host_is_ip = true;
    } else if (!IsHostName(url.host)) {
      return Refuse(why, "has a malformed host");
    } else if (url.host.find_first_not_of("0123456789.") == std::string::npos) {
      return Refuse(why, "has a malformed IPv4 address");  // "1.2.3" or "017.0.0.1": read differently by resolvers
    }
  }
  if (port.empty()) {
    if (authority.ends_with(':')) return Refuse(why, "has an empty port");
    url.port = url.scheme == "https" ? 443 : 80;
  } else {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535 || port.size() > 5) {
      return Refuse(why, "has an invalid port");
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  return url;
}

}  // namespace poste::net
