#include "lib/net/ip_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>
#include <span>

namespace poste::net {

namespace {

// Refused IPv4 networks (RFC 6890 special-purpose registry, less the few globally reachable ones).
constexpr const char* kV4Refused[] = {
    "0.0.0.0/8",     "10.0.0.0/8",      "100.64.0.0/10",  "127.0.0.0/8",    "169.254.0.0/16",
    "172.16.0.0/12", "192.0.0.0/24",    "192.0.2.0/24",   "192.88.99.0/24", "192.168.0.0/16",
    "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",    "240.0.0.0/4",
};
constexpr const char* kV6Refused[] = {
    "::/128",    "::1/128",   "100::/64", "2001:db8::/32", "fc00::/7",
    "fe80::/10", "fec0::/10", "ff00::/8", "2001::/32",  // Teredo: tunnels to an address it hides
};

bool InAny(const IpAddress& address, std::span<const char* const> ranges) {
  for (const char* text : ranges) {
    auto cidr = Cidr::Parse(text);
    if (cidr && cidr->Contains(address)) return true;
  }
  return false;
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  const std::string copy(text);
  IpAddress out;
  if (copy.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, copy.c_str(), out.bytes.data()) != 1) return std::nullopt;
    return out;
  }
  out.v6 = true;
  if (inet_pton(AF_INET6, copy.c_str(), out.bytes.data()) != 1) return std::nullopt;
  return out;
}

std::optional<IpAddress> IpAddress::FromSockaddr(const sockaddr* address) {
  if (!address) return std::nullopt;
  IpAddress out;
  if (address->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, address, sizeof in);
    std::memcpy(out.bytes.data(), &in.sin_addr, 4);
    return out;
  }
  if (address->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, address, sizeof in6);
    out.v6 = true;
    std::memcpy(out.bytes.data(), &in6.sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof buffer);
  return buffer;
}

std::optional<IpAddress> IpAddress::EmbeddedV4() const {
  if (!v6) return std::nullopt;
  const auto& b = bytes;
  const auto zeros = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      if (b[i] != 0) return false;
    }
    return true;
  };
  IpAddress v4;
  if (zeros(0, 10) && b[10] == 0xff && b[11] == 0xff) {  // ::ffff:a.b.c.d
    std::memcpy(v4.bytes.data(), &b[12], 4);
    return v4;
  }
  if (zeros(0, 12) && !(b[12] == 0 && b[13] == 0 && b[14] == 0 && b[15] <= 1)) {  // ::a.b.c.d (not :: or ::1)
    std::memcpy(v4.bytes.data(), &b[12], 4);
    return v4;
  }
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zeros(4, 12)) {  // 64:ff9b::a.b.c.d
    std::memcpy(v4.bytes.data(), &b[12], 4);
    return v4;
  }
  if (b[0] == 0x20 && b[1] == 0x02) {  // 2002:AABB:CCDD::/48
    std::memcpy(v4.bytes.data(), &b[2], 4);
    return v4;
  }
  return std::nullopt;
}

std::optional<Cidr> Cidr::Parse(std::string_view text) {
  const auto slash = text.find('/');
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  const int max = address->v6 ? 128 : 32;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (ec != std::errc() || end != digits.data() + digits.size() || prefix < 0 || prefix > max) return std::nullopt;
  }
  // Host bits must be zero: "10.0.0.1/8" is more likely a typo than a wish.
  for (int bit = prefix; bit < max; ++bit) {
    if (address->bytes[bit / 8] & (0x80 >> (bit % 8))) return std::nullopt;
  }
  return Cidr{*address, prefix};
}

bool Cidr::Contains(const IpAddress& address) const {
  if (address.v6 != network.v6) return false;
  for (int bit = 0; bit < prefix; ++bit) {
    const auto mask = static_cast<std::uint8_t>(0x80 >> (bit % 8));
    if ((address.bytes[bit / 8] & mask) != (network.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

bool IsPublic(const IpAddress& address) {
  if (!address.v6) return !InAny(address, kV4Refused);
  if (auto v4 = address.EmbeddedV4()) return IsPublic(*v4);
  return !InAny(address, kV6Refused);
}

}  // namespace poste::net
