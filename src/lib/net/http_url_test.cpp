#include "lib/net/http_url.hpp"

#include <gtest/gtest.h>

namespace poste::net {
namespace {

TEST(HttpUrl, ParsesHostsPortsAndTargets) {
  auto u = ParseHttpUrl("HTTPS://Hooks.Example.COM./in?x=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "hooks.example.com");
  EXPECT_EQ(u->port, 443);
  EXPECT_FALSE(u->host_is_ip);
  EXPECT_EQ(u->target, "/in?x=1");
  u = ParseHttpUrl("http://127.0.0.1:8080");
  ASSERT_TRUE(u);
  EXPECT_TRUE(u->host_is_ip);
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->target, "/");
  u = ParseHttpUrl("http://[::1]:9000/x");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, 9000);
  u = ParseHttpUrl("http://example.com?q");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->target, "/?q");
}

TEST(HttpUrl, RefusesWhatCouldBeReadTwoWays) {
  for (const char* bad : {"",
                          "example.com",
                          "ftp://example.com/",
                          "file:///etc/passwd",
                          "gopher://x/",
                          "http://",
                          "http://:80/",
                          "http://user:pass@example.com/",
                          "http://example.com@evil.test/",
                          "http://example.com/#frag",
                          "http://exa mple.com/",
                          "http://example.com/\r\nX: y",
                          "http://ex\xC3\xA9.com/",
                          "http://example.com:0/",
                          "http://example.com:65536/",
                          "http://example.com:/",
                          "http://example.com:8o/",
                          "http://[::1/",
                          "http://[::1]x/",
                          "http://[fe80::1%25eth0]/",
                          "http://1.2.3/",
                          "http://017.0.0.1/",
                          "http://2130706433/",
                          "http://-bad.example/",
                          "http://bad-.example/",
                          "http://a..b/",
                          "http://exa$mple.com/",
                          "http://[127.0.0.1]/"}) {
    std::string why;
    EXPECT_FALSE(ParseHttpUrl(bad, &why).has_value()) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  EXPECT_FALSE(ParseHttpUrl("http://example.com/" + std::string(kMaxUrlBytes, 'a')).has_value());
}

}  // namespace
}  // namespace poste::net
