#include "lib/net/ip_address.hpp"

#include <gtest/gtest.h>

#include "lib/net/target_policy.hpp"

namespace poste::net {
namespace {

bool Public(const char* text) {
  auto ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip && IsPublic(*ip);
}

TEST(IpAddress, ParsesStrictly) {
  EXPECT_EQ(IpAddress::Parse("192.0.2.1")->ToString(), "192.0.2.1");
  EXPECT_EQ(IpAddress::Parse("2001:DB8::1")->ToString(), "2001:db8::1");
  for (const char* bad : {"", "1.2.3", "0x7f.0.0.1", "017.0.0.1", "1.2.3.4.5", "256.1.1.1", "::1%eth0", "[::1]",
                          "1.2.3.4 ", "localhost", "2130706433"}) {
    EXPECT_FALSE(IpAddress::Parse(bad).has_value()) << bad;
  }
}

TEST(IpAddress, RefusesPrivateLoopbackLinkLocalAndTheirIpv6Forms) {
  for (const char* refused : {"10.0.0.1",
                              "172.16.0.1",
                              "172.31.255.255",
                              "192.168.1.1",
                              "127.0.0.1",
                              "127.255.0.9",
                              "169.254.169.254",
                              "100.64.0.1",
                              "100.127.255.255",
                              "0.0.0.0",
                              "224.0.0.1",
                              "239.255.255.250",
                              "255.255.255.255",
                              "240.0.0.1",
                              "192.0.2.10",
                              "198.18.0.1",
                              "::",
                              "::1",
                              "fe80::1",
                              "fc00::1",
                              "fd12:3456::1",
                              "ff02::1",
                              "fec0::1",
                              "::ffff:127.0.0.1",
                              "::ffff:10.0.0.1",
                              "::ffff:169.254.169.254",
                              "::127.0.0.1",
                              "64:ff9b::a9fe:a9fe",
                              "2002:7f00:1::1",
                              "2001:db8::1"}) {
    EXPECT_FALSE(Public(refused)) << refused;
  }
  for (const char* ok : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "93.184.216.34", "2606:4700::1111",
                         "::ffff:8.8.8.8", "2a00:1450:4007::200e"}) {
    EXPECT_TRUE(Public(ok)) << ok;
  }
}

TEST(Cidr, ParsesAndMatches) {
  auto net = Cidr::Parse("10.0.0.0/8");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->Contains(*IpAddress::Parse("10.200.3.4")));
  EXPECT_FALSE(net->Contains(*IpAddress::Parse("11.0.0.1")));
  EXPECT_FALSE(net->Contains(*IpAddress::Parse("::ffff:10.0.0.1")));  // another family
  EXPECT_TRUE(Cidr::Parse("fc00::/7")->Contains(*IpAddress::Parse("fdff::1")));
  EXPECT_TRUE(Cidr::Parse("127.0.0.1")->Contains(*IpAddress::Parse("127.0.0.1")));
  EXPECT_FALSE(Cidr::Parse("127.0.0.1")->Contains(*IpAddress::Parse("127.0.0.2")));
  for (const char* bad : {"10.0.0.1/8", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8x", "x/8"}) {
    EXPECT_FALSE(Cidr::Parse(bad).has_value()) << bad;
  }
}

TEST(TargetPolicy, AllowListOpensNetworksAddressesAndHosts) {
  TargetPolicy none;
  EXPECT_FALSE(none.AddressAllowed(*IpAddress::Parse("127.0.0.1")));
  EXPECT_TRUE(none.AddressAllowed(*IpAddress::Parse("8.8.8.8")));
  auto policy = TargetPolicy::WithAllowList({"127.0.0.1", "10.1.0.0/16", "Intranet.Example."});
  EXPECT_TRUE(policy.AddressAllowed(*IpAddress::Parse("127.0.0.1")));
  EXPECT_TRUE(policy.AddressAllowed(*IpAddress::Parse("::ffff:127.0.0.1")));
  EXPECT_FALSE(policy.AddressAllowed(*IpAddress::Parse("127.0.0.2")));
  EXPECT_FALSE(policy.AddressAllowed(*IpAddress::Parse("::1")));
  EXPECT_FALSE(policy.AddressAllowed(*IpAddress::Parse("2002:7f00:1::1")));  // 6to4 goes to a relay, not to us
  EXPECT_TRUE(policy.AddressAllowed(*IpAddress::Parse("10.1.2.3")));
  EXPECT_FALSE(policy.AddressAllowed(*IpAddress::Parse("10.2.0.1")));
  EXPECT_TRUE(policy.HostListed("intranet.example"));
  EXPECT_FALSE(policy.HostListed("other.example"));
  for (const char* bad : {"10.0.0.1/8", "http://x", "a b", "*.example", "", "host:80"}) {
    EXPECT_THROW(TargetPolicy::WithAllowList({bad}), std::invalid_argument) << bad;
    EXPECT_FALSE(TargetPolicy::IsValidEntry(bad)) << bad;
  }
  EXPECT_TRUE(TargetPolicy::AllowAll().AddressAllowed(*IpAddress::Parse("169.254.169.254")));
}

}  // namespace
}  // namespace poste::net
