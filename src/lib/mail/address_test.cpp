#include "lib/mail/address.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace poste::mail {
namespace {

using namespace std::string_literals;

std::vector<FieldError> ErrorsOf(std::string_view text) {
  std::vector<FieldError> errors;
  ParseMailbox(text, "to[0]", errors);
  return errors;
}

std::string CodeOf(std::string_view text) {
  auto errors = ErrorsOf(text);
  return errors.empty() ? "" : errors.front().code;
}

TEST(MailAddress, AcceptsAddressesProvidersAccept) {
  for (const char* e : {"user@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.ie",
                        "x@xn--bcher-kva.example", "user@bücher.example", "user@пример.рф", "a@例え.テスト"}) {
    EXPECT_TRUE(IsValidAddress(e)) << e;
  }
}

TEST(MailAddress, RejectsMalformedAndHostileAddresses) {
  for (const std::string& e : std::vector<std::string>{"",
                                                       "user",
                                                       "user@",
                                                       "@example.com",
                                                       "a@@example.com",
                                                       ".a@example.com",
                                                       "a..b@example.com",
                                                       "\"quoted\"@example.com",
                                                       "a b@example.com",
                                                       "a@example",
                                                       "a@[127.0.0.1]",
                                                       "a@-bad.example",
                                                       "a@bad-.example",
                                                       "a@exa mple.com",
                                                       "a@exa_mple.com",
                                                       "ü@example.com",
                                                       "a@example.com\r\nBcc: x@evil.com",
                                                       "a@example.com\n",
                                                       "a@exa\0mple.com"s,
                                                       "a@bü\xff.example",
                                                       "a@b\xc2\x85.example",
                                                       "a@example.com;b@example.com",
                                                       std::string(65, 'a') + "@example.com",
                                                       "a@" + std::string(250, 'b') + ".com"}) {
    EXPECT_FALSE(IsValidAddress(e)) << e;
  }
}

TEST(MailAddress, ParsesTheFormsOfAMailbox) {
  EXPECT_EQ(ParseMailbox("user@Example.COM", "f"), (Mailbox{"", "user@example.com"}));
  EXPECT_EQ(ParseMailbox("  <user@example.com> ", "f"), (Mailbox{"", "user@example.com"}));
  EXPECT_EQ(ParseMailbox("Ada Lovelace <ada@example.com>", "f"), (Mailbox{"Ada Lovelace", "ada@example.com"}));
  EXPECT_EQ(ParseMailbox("\"Lovelace, Ada \\\"Countess\\\"\" <ada@example.com>", "f"),
            (Mailbox{"Lovelace, Ada \"Countess\"", "ada@example.com"}));
  EXPECT_EQ(ParseMailbox("Zoë Ünicode <zoe@bücher.example>", "f"), (Mailbox{"Zoë Ünicode", "zoe@bücher.example"}));
}

TEST(MailAddress, RefusesHeaderInjectionInAddressesAndNames) {
  EXPECT_EQ(CodeOf("Ada <ada@example.com>\r\nBcc: victim@example.com"), "header_injection");
  EXPECT_EQ(CodeOf("Ada\r\nBcc: victim@example.com <ada@example.com>"), "header_injection");
  EXPECT_EQ(CodeOf("Ada\n <ada@example.com>"), "header_injection");
  EXPECT_EQ(CodeOf("Ada\0 <ada@example.com>"s), "header_injection");
  EXPECT_EQ(CodeOf("Ada\x01 <ada@example.com>"), "invalid_characters");
  EXPECT_EQ(CodeOf("Ada\xe2\x80\xa8 <ada@example.com>"), "invalid_characters");
  EXPECT_EQ(CodeOf("Ad\xff <ada@example.com>"), "invalid_utf8");
  EXPECT_EQ(CodeOf("\"Ada <ada@example.com>"), "invalid_email");
  EXPECT_EQ(CodeOf("Ada ada@example.com>"), "invalid_email");
  EXPECT_EQ(CodeOf(std::string(201, 'n') + " <ada@example.com>"), "too_long");
  EXPECT_EQ(CodeOf("Ada <>"), "required");
  EXPECT_EQ(CodeOf("Ada <not an address>"), "invalid_email");
  EXPECT_EQ(CodeOf("Robert'); DROP TABLE users;-- <x@example.com>"), "");  // a name, quoted when written
  EXPECT_EQ(CodeOf("<script>alert(1)</script>"), "invalid_email");
}

TEST(MailAddress, ThrowsAValidationErrorWithTheField) {
  try {
    ParseMailbox("x\r\n@example.com", "cc[2]");
    FAIL() << "no error";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 422);
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].field, "cc[2]");
    EXPECT_EQ(e.fields()[0].code, "header_injection");
    EXPECT_FALSE(e.fields()[0].message.empty());
  }
}

TEST(MailAddress, ChecksMailboxFieldsSeparately) {
  std::vector<FieldError> errors;
  CheckMailbox({"Ada\r\n", "bad"}, "from", errors);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "from.email");
  EXPECT_EQ(errors[0].code, "invalid_email");
  EXPECT_EQ(errors[1].field, "from.name");
  EXPECT_EQ(errors[1].code, "header_injection");
}

TEST(MailAddress, IsValidMailboxAgreesWithCheckMailbox) {
  const std::vector<std::string> emails = {"a@example.org",
                                           "",
                                           " ",
                                           "bad",
                                           "a@b",
                                           "a\r\n@example.org",
                                           "ü@example.org",
                                           "a@bücher.de",
                                           "a@-x.com",
                                           std::string(300, 'a') + "@x.org"};
  const std::vector<std::string> names = {"",
                                          "Ann",
                                          "Chloé",
                                          "Evil\r\nBcc: x",
                                          "tab\tok",
                                          "\x01",
                                          "\xff",
                                          std::string(201, 'n'),
                                          std::string(200, 'n'),
                                          "line\xE2\x80\xA8sep"};
  for (const auto& email : emails) {
    for (const auto& name : names) {
      std::vector<FieldError> errors;
      CheckMailbox({name, email}, "to[0]", errors);
      EXPECT_EQ(IsValidMailbox({name, email}), errors.empty()) << name << " <" << email << ">";
    }
  }
}

TEST(MailHeader, ValuesRefuseLineBreaksAndControls) {
  auto code = [](std::string_view v) {
    std::vector<FieldError> errors;
    CheckHeaderValue(v, "subject", errors);
    return errors.empty() ? std::string() : errors.front().code;
  };
  EXPECT_EQ(code("Hello, wörld\tand tabs"), "");
  EXPECT_EQ(code("Hello\r\nBcc: x@evil.com"), "header_injection");
  EXPECT_EQ(code("Hello\rX"), "header_injection");
  EXPECT_EQ(code("Hello\nX"), "header_injection");
  EXPECT_EQ(code("Hel\0lo"s), "header_injection");
  EXPECT_EQ(code("Hel\x1blo"), "invalid_characters");
  EXPECT_EQ(code("Hel\x7flo"), "invalid_characters");
  EXPECT_EQ(code("Hel\xc2\x85lo"), "invalid_characters");  // NEL
  EXPECT_EQ(code("\xc3\x28"), "invalid_utf8");
  EXPECT_EQ(code(std::string(901, 'a')), "too_long");
}

TEST(MailHeader, CustomNamesAreTokensAndNotStructural) {
  auto code = [](std::string_view n) {
    std::vector<FieldError> errors;
    CheckCustomHeaderName(n, "headers[0].name", errors);
    return errors.empty() ? std::string() : errors.front().code;
  };
  EXPECT_EQ(code("X-Campaign-Id"), "");
  EXPECT_EQ(code("X-Priority"), "");
  for (const char* n : {"", "X Bad", "X-Bad:", "X-Bad\r\nBcc", "X-\xc3\xa9", "X(y)"}) {
    EXPECT_EQ(code(n), "invalid_header_name") << n;
  }
  EXPECT_EQ(code(std::string(77, 'x')), "invalid_header_name");
  for (const char* n : {"Content-Type", "content-transfer-encoding", "MIME-Version", "From", "BCC", "Subject",
                        "Message-ID", "DKIM-Signature", "List-Unsubscribe", "Content-Foo", "Resent-To"}) {
    EXPECT_EQ(code(n), "reserved_header") << n;
  }
}

}  // namespace
}  // namespace poste::mail
