#include "lib/validate/email.hpp"

#include <gtest/gtest.h>

#include <string>

namespace poste::validate {
namespace {

using namespace std::string_literals;

TEST(IsValidEmail, AcceptsDotAtomAddresses) {
  for (const char* e :
       {"user@example.com", "first.last@example.co.uk", "First.Last@Example.COM", "a@b.io", "user+tag@example.com",
        "user-name_x@sub.example.org", "x@xn--bcher-kva.example", "!#$%&'*+-/=?^_`{|}~@example.com", "1234@example.com",
        // RFC-valid: safe to store because SQL uses placeholders, and escaped when shown.
        "o'brien@example.ie", "a'or'1'='1@example.com"}) {
    EXPECT_TRUE(IsValidEmail(e)) << e;
  }
}

TEST(IsValidEmail, RejectsMalformedAddresses) {
  for (const char* e : {"",
                        "@",
                        "user",
                        "user@",
                        "@example.com",
                        "user@@example.com",
                        "us@er@example.com",
                        ".user@example.com",
                        "user.@example.com",
                        "us..er@example.com",
                        "user@localhost",
                        "user@example",
                        "user@example.com.",
                        "user@.example.com",
                        "user@example..com",
                        "user@-example.com",
                        "user@exa_mple.com",
                        "user@[127.0.0.1]",
                        "user@[IPv6:::1]",
                        "user@1.2.3.4",
                        "\"quoted local\"@example.com",
                        "\"a\"@example.com",
                        "user(comment)@example.com",
                        "user@example.com(comment)",
                        "user name@example.com",
                        " user@example.com",
                        "user@example.com ",
                        "user@example.com:25",
                        "mailto:user@example.com",
                        "<user@example.com>",
                        "Name <user@example.com>",
                        "user@example.com, other@example.com",
                        "user;x@example.com",
                        "user\\@example.com",
                        "usér@example.com",
                        "user@exämple.com",
                        "<script>alert(1)</script>@example.com",
                        "user@example.com<script>"}) {
    EXPECT_FALSE(IsValidEmail(e)) << e;
  }
}

TEST(IsValidEmail, RejectsControlCharactersAndHeaderInjection) {
  EXPECT_FALSE(IsValidEmail("user@example.com\r\nBcc: victim@example.org"));
  EXPECT_FALSE(IsValidEmail("user\n@example.com"));
  EXPECT_FALSE(IsValidEmail("user@example.com\n"));
  EXPECT_FALSE(IsValidEmail("user\t@example.com"));
  EXPECT_FALSE(IsValidEmail("user\0@example.com"s));
  EXPECT_FALSE(IsValidEmail("user@example.com\0.evil.org"s));
  EXPECT_FALSE(IsValidEmail("user\x7f@example.com"));
}

TEST(IsValidEmail, EnforcesLengthLimits) {
  std::string local64(64, 'a'), local65(65, 'a');
  EXPECT_TRUE(IsValidEmail(local64 + "@example.com"));
  EXPECT_FALSE(IsValidEmail(local65 + "@example.com"));
  // 254 in all: 64 + '@' + a 189-character domain.
  std::string domain = std::string(63, 'd') + "." + std::string(63, 'e') + "." + std::string(57, 'f') + ".com";
  ASSERT_EQ(domain.size(), 189u);
  EXPECT_TRUE(IsValidEmail(local64 + "@" + domain));
  EXPECT_FALSE(IsValidEmail(local64 + "@x" + domain));  // 255
  EXPECT_FALSE(IsValidEmail(std::string(10'000, 'a') + "@example.com"));
  EXPECT_FALSE(IsValidEmail("a@" + std::string(10'000, 'b') + ".com"));
}

TEST(NormalizeEmail, TrimsAndLowersOnlyTheDomain) {
  EXPECT_EQ(NormalizeEmail("  Bob.Smith@Example.COM \n"), "Bob.Smith@example.com");
  EXPECT_EQ(NormalizeEmail("bob@example.com"), "bob@example.com");
  EXPECT_EQ(NormalizeEmail("no-at-sign"), "no-at-sign");
  EXPECT_EQ(NormalizeEmail(""), "");
  EXPECT_TRUE(IsValidEmail(NormalizeEmail("\tAlice@EXAMPLE.org  ")));
}

TEST(EmailKey, IsCaseInsensitive) {
  EXPECT_EQ(EmailKey("Bob.Smith@Example.COM"), "bob.smith@example.com");
  EXPECT_EQ(EmailKey(" BOB@example.com "), EmailKey("bob@EXAMPLE.com"));
  EXPECT_NE(EmailKey("bob@example.com"), EmailKey("bob2@example.com"));
}

TEST(EmailLocalPart, IsBeforeTheLastAt) {
  EXPECT_EQ(EmailLocalPart("bob@example.com"), "bob");
  EXPECT_EQ(EmailLocalPart("a@b@example.com"), "a@b");
  EXPECT_EQ(EmailLocalPart("plain"), "plain");
  EXPECT_EQ(EmailLocalPart("@example.com"), "");
}

}  // namespace
}  // namespace poste::validate
