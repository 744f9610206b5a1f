#include "modules/users/users_types.hpp"

#include <gtest/gtest.h>

namespace poste::users {
namespace {

// "field:code" of each error, to compare in one line.
std::vector<std::string> Codes(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field + ":" + e.code);
  return out;
}

using Strings = std::vector<std::string>;

TEST(UsersTypes, EmailKeyLowerCasesTheWholeTrimmedAddress) {
  EXPECT_EQ(TrimEmail("  Foo@X.com\r\n"), "Foo@X.com");
  EXPECT_EQ(EmailKey(" Foo.BAR@X.Com "), "foo.bar@x.com");
  EXPECT_EQ(EmailKey(EmailKey("Foo@X.com")), EmailKey("Foo@X.com"));
  EXPECT_EQ(EmailKey("Élodie@X.com"), "Élodie@x.com");  // only ASCII is folded
}

TEST(UsersTypes, AcceptsOrdinaryEmails) {
  for (const char* email : {"a@b.co", "jane.doe+tag@mail.example.com", "  padded@example.org  ", "x_y-z@a-b.example"}) {
    EXPECT_TRUE(ValidateEmail(email).empty()) << email;
  }
}

TEST(UsersTypes, RefusesMalformedEmails) {
  for (const char* email : {"", "   ", "plain", "@example.com", "a@", "a@@b.com", "a@b@c.com", "a b@c.com",
                            "a@localhost", "a@-b.com", "a@b-.com", "a@b..com", "a@.b.com", "a@b.com.", "a\r\n@b.com",
                            "a@b.com\r\nBcc: x@y.com", "a@exa mple.com", "a@b_c.com"}) {
    EXPECT_FALSE(ValidateEmail(email).empty()) << email;
  }
  EXPECT_EQ(Codes(ValidateEmail("")), Strings{"email:required"});
  EXPECT_EQ(Codes(ValidateEmail("plain", "owner")), Strings{"owner:invalid_format"});
}

TEST(UsersTypes, RefusesOverLongEmails) {
  const std::string local64(64, 'a');
  EXPECT_TRUE(ValidateEmail(local64 + "@x.com").empty());
  EXPECT_EQ(Codes(ValidateEmail(local64 + "a@x.com")), Strings{"email:invalid_format"});
  // 254 bytes is the limit of the whole address.
  const std::string domain = std::string(63, 'd') + "." + std::string(63, 'd') + "." + std::string(57, 'd') + ".com";
  const std::string at254 = local64 + "@" + domain;
  ASSERT_EQ(at254.size(), 254u);
  EXPECT_TRUE(ValidateEmail(at254).empty());
  EXPECT_EQ(Codes(ValidateEmail("a" + at254.substr(1) + "m")), Strings{"email:too_long"});
  EXPECT_EQ(Codes(ValidateEmail(std::string(10000, 'a') + "@x.com")), Strings{"email:too_long"});
}

TEST(UsersTypes, NamesAreCountedInCodePoints) {
  EXPECT_TRUE(ValidateName("Zoë Ä. O'Brien <admin>").empty());  // HTML is text; it is escaped on output
  EXPECT_TRUE(ValidateName(std::string(200, 'a')).empty());
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "é";  // 400 bytes, 200 characters
  EXPECT_TRUE(ValidateName(accents).empty());
  EXPECT_EQ(Codes(ValidateName(std::string(201, 'a'))), Strings{"name:too_long"});
  EXPECT_EQ(Codes(ValidateName(accents + "é")), Strings{"name:too_long"});
  EXPECT_EQ(Codes(ValidateName("")), Strings{"name:required"});
  EXPECT_EQ(Codes(ValidateName(" \t ")), Strings{"name:required"});
  EXPECT_EQ(Codes(ValidateName("two\r\nlines")), Strings{"name:invalid_format"});
  EXPECT_EQ(Codes(ValidateName(std::string("nul\0byte", 8))), Strings{"name:invalid_format"});
  EXPECT_EQ(Codes(ValidateName("c1\xC2\x85")), Strings{"name:invalid_format"});  // U+0085 NEL
  EXPECT_EQ(Codes(ValidateName("bad\xFF")), Strings{"name:invalid_utf8"});
  EXPECT_EQ(Codes(ValidateName("overlong\xC0\xAF")), Strings{"name:invalid_utf8"});
  EXPECT_EQ(Codes(ValidateName("surrogate\xED\xA0\x80")), Strings{"name:invalid_utf8"});
  EXPECT_EQ(Codes(ValidateName("cut\xE2\x82")), Strings{"name:invalid_utf8"});
}

TEST(UsersTypes, RolesAndSiteIds) {
  EXPECT_TRUE(ValidateRole("admin").empty());
  EXPECT_TRUE(ValidateRole("editor").empty());
  for (const char* role : {"", "Admin", "owner", "admin ", "editor'; --"}) {
    EXPECT_EQ(Codes(ValidateRole(role)), Strings{"role:invalid_value"}) << role;
  }
  EXPECT_TRUE(ValidateSiteIds({1, 2, 3}).empty());
  EXPECT_EQ(Codes(ValidateSiteIds({1, 0})), Strings{"site_ids[1]:invalid_value"});
  EXPECT_EQ(Codes(ValidateSiteIds({4, 5, 4})), Strings{"site_ids[2]:duplicate"});
}

TEST(UsersTypes, ValidateCollectsEveryFieldOfANewUserOrAPatch) {
  NewUser user;
  user.email = "nope";
  user.name = std::string(300, 'n');
  user.role = "root";
  user.site_ids = {-1};
  EXPECT_EQ(Codes(Validate(user)),
            (Strings{"email:invalid_format", "name:too_long", "role:invalid_value", "site_ids[0]:invalid_value"}));
  user = NewUser{"ok@example.com", "Ok", "hash", "editor", true, {1}};
  EXPECT_TRUE(Validate(user).empty());

  UserPatch patch;
  EXPECT_TRUE(Validate(patch).empty());
  patch.name = "";
  patch.role = "editor";
  EXPECT_EQ(Codes(Validate(patch)), Strings{"name:required"});
}

TEST(UsersTypes, ApiKeyUsability) {
  ApiKey key;
  EXPECT_TRUE(key.UsableAt(1000));
  key.expires_at = 2000;
  EXPECT_TRUE(key.UsableAt(1999));
  EXPECT_FALSE(key.UsableAt(2000));
  key.expires_at.reset();
  key.revoked_at = 500;
  EXPECT_FALSE(key.UsableAt(1000));
}

}  // namespace
}  // namespace poste::users
