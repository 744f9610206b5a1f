#include "lib/validate/password_policy.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "lib/validate/common_passwords.hpp"

namespace poste::validate {
namespace {

using namespace std::string_literals;

constexpr std::string_view kEmail = "Jean.Dupont@example.com";

TEST(CheckPasswordStrength, AcceptsLongUncommonPasswords) {
  EXPECT_EQ(CheckPasswordStrength("correct horse battery staple", kEmail), std::nullopt);
  EXPECT_EQ(CheckPasswordStrength("Tr0ub4dor&3xyz", kEmail), std::nullopt);
  EXPECT_EQ(CheckPasswordStrength("'; DROP TABLE users; --", kEmail), std::nullopt);
  EXPECT_EQ(CheckPasswordStrength("<script>alert(1)</script>", kEmail), std::nullopt);
  EXPECT_EQ(CheckPasswordStrength(std::string(1024, 'x'), kEmail), std::nullopt);
}

TEST(CheckPasswordStrength, CountsCharactersNotBytes) {
  EXPECT_NE(CheckPasswordStrength("short", kEmail), std::nullopt);
  EXPECT_NE(CheckPasswordStrength("abcdefghi", kEmail), std::nullopt);   // 9
  EXPECT_EQ(CheckPasswordStrength("abcdefghiz", kEmail), std::nullopt);  // 10
  // Nine two-byte letters are 18 bytes but 9 characters: too short. Ten of them pass.
  EXPECT_NE(CheckPasswordStrength("ééééééééé", kEmail), std::nullopt);
  EXPECT_EQ(CheckPasswordStrength("éééééééééé", kEmail), std::nullopt);
  EXPECT_EQ(CheckPasswordStrength("パスワードは長いです", kEmail), std::nullopt);
  auto reason = CheckPasswordStrength("", kEmail);
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("at least 10 characters"), std::string::npos) << *reason;
}

TEST(CheckPasswordStrength, CapsTheLengthInBytes) {
  auto reason = CheckPasswordStrength(std::string(1025, 'x'), kEmail);
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("1024 bytes"), std::string::npos) << *reason;
  EXPECT_TRUE(CheckPasswordStrength(std::string(10'000, 'x'), kEmail));
  EXPECT_TRUE(CheckPasswordStrength(std::string(1'000'000, 'x'), kEmail));
}

TEST(CheckPasswordStrength, RefusesMalformedText) {
  EXPECT_TRUE(CheckPasswordStrength("valid-prefix\xc0\xaf-overlong", kEmail));
  EXPECT_TRUE(CheckPasswordStrength("surrogate-\xed\xa0\x80-inside", kEmail));
  EXPECT_TRUE(CheckPasswordStrength("with a nul \0 inside"s, kEmail));
  EXPECT_TRUE(CheckPasswordStrength("line one\r\nline two", kEmail));
}

TEST(CheckPasswordStrength, RefusesTheEmailAddress) {
  EXPECT_TRUE(CheckPasswordStrength("jean.dupont@example.com", kEmail));
  EXPECT_TRUE(CheckPasswordStrength("JEAN.DUPONT", kEmail.substr(0, 11)));  // equal to the local part
  EXPECT_TRUE(CheckPasswordStrength("Jean.Dupont2024!", kEmail));           // containing it
  EXPECT_TRUE(CheckPasswordStrength("my jean.dupont password", kEmail));
  EXPECT_EQ(CheckPasswordStrength("jeandupont-is-fine", kEmail), std::nullopt);  // not the local part
  // A short local part is refused only as the whole password.
  EXPECT_EQ(CheckPasswordStrength("jojo-rabbit-2019", "jo@example.com"), std::nullopt);
  EXPECT_TRUE(CheckPasswordStrength("jo@example.com", "jo@example.com"));
  EXPECT_TRUE(CheckPasswordStrength("0123456789", "0123456789@example.com"));
  // No email (a password set before the address is known) checks the rest only.
  EXPECT_EQ(CheckPasswordStrength("long enough and rare", ""), std::nullopt);
  auto reason = CheckPasswordStrength("Jean.Dupont2024!", "  " + std::string(kEmail) + " ");
  ASSERT_TRUE(reason);
  EXPECT_NE(reason->find("email"), std::string::npos);
}

TEST(CheckPasswordStrength, RefusesCommonPasswordsCaseInsensitively) {
  for (const char* p : {"password123", "PASSWORD123", "Password1234", "1234567890", "qwertyuiop", "QwErTyUiOp",
                        "iloveyou123", "azertyuiop", "motdepasse", "1q2w3e4r5t", "0987654321", "basketball"}) {
    auto reason = CheckPasswordStrength(p, kEmail);
    ASSERT_TRUE(reason) << p;
    EXPECT_NE(reason->find("common"), std::string::npos) << p << ": " << *reason;
  }
  EXPECT_EQ(CheckPasswordStrength("password123 but longer and mine", kEmail), std::nullopt);
}

TEST(CheckPasswordStrength, ALowerMinimumStillRefusesShortCommonPasswords) {
  PasswordPolicy lenient{.min_chars = 6, .max_bytes = 64};
  EXPECT_TRUE(CheckPasswordStrength("123456", kEmail, lenient));
  EXPECT_TRUE(CheckPasswordStrength("Qwerty", kEmail, lenient));
  EXPECT_TRUE(CheckPasswordStrength("iloveyou", kEmail, lenient));
  EXPECT_TRUE(CheckPasswordStrength("Soleil", kEmail, lenient));
  EXPECT_EQ(CheckPasswordStrength("zq8#Lp", kEmail, lenient), std::nullopt);
  EXPECT_TRUE(CheckPasswordStrength(std::string(65, 'z'), kEmail, lenient));
}

TEST(IsCommonPassword, FindsEntriesAndNothingElse) {
  EXPECT_TRUE(IsCommonPassword("123456"));
  EXPECT_TRUE(IsCommonPassword("password"));
  EXPECT_TRUE(IsCommonPassword("QWERTY123"));
  EXPECT_TRUE(IsCommonPassword("iloveyou"));
  EXPECT_FALSE(IsCommonPassword(""));
  EXPECT_FALSE(IsCommonPassword("password-but-not-quite"));
  EXPECT_FALSE(IsCommonPassword("pässword"));
  EXPECT_FALSE(IsCommonPassword(std::string(10'000, 'a')));
}

TEST(CommonPasswords, AreSortedUniqueLowerCaseAndShort) {
  auto list = CommonPasswords();
  EXPECT_GE(list.size(), 1000u);
  EXPECT_TRUE(std::is_sorted(list.begin(), list.end()));
  EXPECT_EQ(std::adjacent_find(list.begin(), list.end()), list.end());
  for (auto entry : list) {
    EXPECT_FALSE(entry.empty());
    EXPECT_LE(entry.size(), 64u) << entry;  // IsCommonPassword skips longer inputs
    for (char c : entry) {
      EXPECT_FALSE(c >= 'A' && c <= 'Z') << entry;
      EXPECT_TRUE(c > ' ' && c < 0x7f) << entry;
    }
  }
  auto long_ones = std::count_if(list.begin(), list.end(), [](std::string_view e) { return e.size() >= 10; });
  EXPECT_GE(long_ones, 200);  // what the default 10-character minimum leaves the list to catch
}

}  // namespace
}  // namespace poste::validate
