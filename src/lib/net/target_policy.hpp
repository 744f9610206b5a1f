#pragma once
// Which hosts outbound requests may reach (the SSRF guard). By default only public addresses: a URL given
// by a user (a webhook target) must not reach the server's own loopback, the cloud metadata service at
// 169.254.169.254 or the intranet behind it. An allow list opens specific networks or host names, for
// intranets and tests.
#include <string>
#include <string_view>
#include <vector>

#include "lib/net/ip_address.hpp"

namespace poste::net {

class TargetPolicy {
 public:
  // Public addresses only.
  TargetPolicy() = default;
  // Plus each entry: a network ("10.0.0.0/8", "fd00::/8"), an address ("127.0.0.1", "::1"), or a host
  // name ("intranet.example", any address it resolves to). Throws std::invalid_argument naming the first
  // entry that is none of these.
  static TargetPolicy WithAllowList(const std::vector<std::string>& entries);
  // Everything (for requests to fixed provider endpoints, never for user-given URLs).
  static TargetPolicy AllowAll();

  bool AddressAllowed(const IpAddress& address) const;
  // Whether a host name is on the allow list (then any address it resolves to is allowed).
  bool HostListed(std::string_view host) const;

  // Whether an allow-list entry is well formed (for configuration checks).
  static bool IsValidEntry(std::string_view entry);

 private:
  bool allow_all_ = false;
  std::vector<Cidr> networks_;
  std::vector<std::string> hosts_;  // lower case, no trailing dot
};

}  // namespace poste::net
