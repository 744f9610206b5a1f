#pragma once
// IP addresses and networks for the outbound-request guard: parsing (strict: what inet_pton accepts), CIDR
// matching, and which addresses are public (routable on the internet) rather than private, loopback,
// link-local, multicast, reserved, or an IPv6 form that embeds such an IPv4 address.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace poste::net {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4

  // "192.0.2.1", "2001:db8::1" (no brackets, no zone id); nullopt for anything else.
  static std::optional<IpAddress> Parse(std::string_view text);
  // From a sockaddr_in / sockaddr_in6; nullopt for other families.
  static std::optional<IpAddress> FromSockaddr(const sockaddr* address);
  std::string ToString() const;
  // For IPv6 that embeds an IPv4 address (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64
  // 64:ff9b::/96, 6to4 2002::/16): that address.
  std::optional<IpAddress> EmbeddedV4() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

struct Cidr {
  IpAddress network;
  int prefix = 0;  // bits

  // "10.0.0.0/8", "fc00::/7", or a single address (a /32 or /128). Host bits must be zero.
  static std::optional<Cidr> Parse(std::string_view text);
  bool Contains(const IpAddress& address) const;
};

// False for: unspecified, loopback, RFC 1918 and other private or shared ranges (10/8, 172.16/12,
// 192.168/16, 100.64/10 CGNAT), link-local (169.254/16, fe80::/10), multicast, documentation and
// benchmarking nets, reserved (0/8, 240/4, broadcast), unique-local fc00::/7, site-local fec0::/10, and IPv6
// forms embedding any of those IPv4 addresses.
bool IsPublic(const IpAddress& address);

}  // namespace poste::net
