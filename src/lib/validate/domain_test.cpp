#include "lib/validate/domain.hpp"

#include <gtest/gtest.h>

#include <string>

namespace poste::validate {
namespace {

using namespace std::string_literals;

TEST(IsValidDomain, AcceptsHostNames) {
  for (const char* d : {"example.com", "www.example.com", "a.b.c.d.example.co.uk", "my-site.fr", "x.io", "1.example",
                        "123.example.com", "a1.b2", "xn--bcher-kva.example", "example.xn--p1ai", "EXAMPLE.COM",
                        "Mixed.Case.Org", "r3--sn-abc.googlevideo.com"}) {
    EXPECT_TRUE(IsValidDomain(d)) << d;
  }
}

TEST(IsValidDomain, RejectsWhatIsNotAHostName) {
  for (const char* d : {"",
                        ".",
                        "example.com.",
                        "localhost",
                        "com",
                        "example..com",
                        ".example.com",
                        "example.com..",
                        "-a.com",
                        "a-.com",
                        "a.-com",
                        "exa_mple.com",
                        "_dmarc.example.com",
                        "example.com:8080",
                        "https://example.com",
                        "example.com/path",
                        "example.com?q=1",
                        "*.example.com",
                        "user@example.com",
                        "exa mple.com",
                        " example.com",
                        "example.com ",
                        "1.2.3.4",
                        "10.0.0.1.",
                        "[::1]",
                        "::1",
                        "[2001:db8::1]",
                        "example.123",
                        "bücher.example",
                        "例え.jp",
                        "example.com\r\nX-Injected: 1",
                        "<script>.com",
                        "a.com';--",
                        "exa%2emple.com"}) {
    EXPECT_FALSE(IsValidDomain(d)) << d;
  }
  EXPECT_FALSE(IsValidDomain("example.com\0.evil.org"s));
  EXPECT_FALSE(IsValidDomain("example\0.com"s));
}

TEST(IsValidDomain, EnforcesLengthLimits) {
  std::string label63(63, 'a'), label64(64, 'a');
  EXPECT_TRUE(IsValidDomain(label63 + ".com"));
  EXPECT_FALSE(IsValidDomain(label64 + ".com"));
  // 253 characters in all is the most: labels of 62, 61, 61 and 61, three dots and ".com" make 252.
  std::string l61(61, 'b');
  std::string d252 = "b" + l61 + "." + l61 + "." + l61 + "." + l61 + ".com";
  ASSERT_EQ(d252.size(), 252u);
  EXPECT_TRUE(IsValidDomain(d252));
  EXPECT_TRUE(IsValidDomain("c" + d252));                         // 253
  EXPECT_TRUE(IsValidDomain(NormalizeDomain("c" + d252 + ".")));  // 253 plus the root dot
  EXPECT_FALSE(IsValidDomain("cc" + d252));                       // 254
  std::string huge;
  while (huge.size() < 10'000) huge += "abc.";
  EXPECT_FALSE(IsValidDomain(huge + "com"));
}

TEST(NormalizeDomain, TrimsLowersAndDropsTheRootDot) {
  EXPECT_EQ(NormalizeDomain("  WWW.Example.COM.\n"), "www.example.com");
  EXPECT_TRUE(IsValidDomain(NormalizeDomain("example.com.")));
  EXPECT_EQ(NormalizeDomain("10.0.0.1."), "10.0.0.1");
  EXPECT_FALSE(IsValidDomain(NormalizeDomain("10.0.0.1.")));
  EXPECT_EQ(NormalizeDomain("example.com"), "example.com");
  EXPECT_EQ(NormalizeDomain("Xn--Bcher-Kva.Example"), "xn--bcher-kva.example");
  EXPECT_EQ(NormalizeDomain(""), "");
  EXPECT_EQ(NormalizeDomain("example.com.."), "example.com.");  // one dot only: the rest stays invalid
  EXPECT_FALSE(IsValidDomain(NormalizeDomain("example.com..")));
  EXPECT_EQ(NormalizeDomain("BÜCHER.example"), "bÜcher.example");  // non-ASCII is left alone, and invalid
}

}  // namespace
}  // namespace poste::validate
