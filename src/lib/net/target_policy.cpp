#include "lib/net/target_policy.hpp"

#include <algorithm>
#include <stdexcept>

#include "lib/net/http_url.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::net {

namespace {

std::string NormalHost(std::string_view host) {
  std::string out = validate::ascii::ToLower(host);
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

// A host name as URLs carry them (checked through the URL parser, so both agree on what a host is).
bool IsHostEntry(std::string_view entry) {
  auto url = ParseHttpUrl("http://" + std::string(entry) + "/");
  return url && !url->host_is_ip && url->host == NormalHost(entry) && url->port == 80 &&
         entry.find(':') == std::string_view::npos;
}

}  // namespace

bool TargetPolicy::IsValidEntry(std::string_view entry) { return Cidr::Parse(entry).has_value() || IsHostEntry(entry); }

TargetPolicy TargetPolicy::WithAllowList(const std::vector<std::string>& entries) {
  TargetPolicy policy;
  for (const auto& entry : entries) {
    if (auto cidr = Cidr::Parse(entry)) {
      policy.networks_.push_back(*cidr);
    } else if (IsHostEntry(entry)) {
      policy.hosts_.push_back(NormalHost(entry));
    } else {
      throw std::invalid_argument("not a network, an IP address or a host name: \"" + entry + "\"");
    }
  }
  return policy;
}

TargetPolicy TargetPolicy::AllowAll() {
  TargetPolicy policy;
  policy.allow_all_ = true;
  return policy;
}

bool TargetPolicy::AddressAllowed(const IpAddress& address) const {
  if (allow_all_ || IsPublic(address)) return true;
  const auto listed = [&](const IpAddress& a) {
    return std::any_of(networks_.begin(), networks_.end(), [&](const Cidr& c) { return c.Contains(a); });
  };
  if (listed(address)) return true;
  // ::ffff:127.0.0.1 (IPv4-mapped) is 127.0.0.1 on the wire: an allow list naming the IPv4 form covers it.
  if (!address.v6) return false;
  for (int i = 0; i < 10; ++i) {
    if (address.bytes[i] != 0) return false;
  }
  if (address.bytes[10] != 0xff || address.bytes[11] != 0xff) return false;
  IpAddress v4;
  std::copy(address.bytes.begin() + 12, address.bytes.end(), v4.bytes.begin());
  return listed(v4);
}

bool TargetPolicy::HostListed(std::string_view host) const {
  if (allow_all_) return true;
  const auto normal = NormalHost(host);
  return std::find(hosts_.begin(), hosts_.end(), normal) != hosts_.end();
}

}  // namespace poste::net
