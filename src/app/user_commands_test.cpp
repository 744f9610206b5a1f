#include "app/user_commands.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <sstream>

#include "db/database.hpp"
#include "lib/crypto/password.hpp"
#include "lib/error.hpp"
#include "modules/users/users_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::app {
namespace {

class UserCommandsTest : public ::testing::Test {
 protected:
  UserCommandsTest() : temp(db::Dialect::kSqlite) {}

  std::optional<users::UserAuth> Auth(const std::string& email) {
    return temp.db().ReadValue([&](soci::session& s) { return users::store::GetAuthByEmailKey(s, email); });
  }
  std::string Add(const std::string& email, const std::string& role, const std::string& password_line = {}) {
    UserAddArgs args;
    args.email = email;
    args.name = "Someone";
    args.role = role;
    args.password_stdin = !password_line.empty();
    std::istringstream in(password_line);
    std::ostringstream out;
    EXPECT_EQ(UserAdd(temp.db(), args, in, out), 0);
    return out.str();
  }

  testing::TempDatabase temp;
};

TEST_F(UserCommandsTest, AddPasswdListDisable) {
  auto printed = Add("Admin@Example.com", "admin");
  auto auth = Auth("admin@example.com");
  ASSERT_TRUE(auth);
  EXPECT_EQ(auth->role, "admin");
  // The generated password is printed once and is the one stored.
  auto pos = printed.find("shown once):\n\n    ");
  ASSERT_NE(pos, std::string::npos);
  const auto start = pos + std::string("shown once):\n\n    ").size();
  auto password = printed.substr(start, printed.find('\n', start) - start);
  EXPECT_EQ(password.size(), 24u);
  EXPECT_TRUE(crypto::VerifyPassword(auth->password_hash, password));

  Add("ed@example.com", "editor", "correct horse battery staple\n");
  auto ed = Auth("ed@example.com");
  ASSERT_TRUE(ed);
  EXPECT_TRUE(crypto::VerifyPassword(ed->password_hash, "correct horse battery staple"));

  std::istringstream in("another long passphrase 42\r\n");
  std::ostringstream out;
  EXPECT_EQ(UserPasswd(temp.db(), "ED@example.com", true, in, out), 0);
  auto after = Auth("ed@example.com");
  EXPECT_TRUE(crypto::VerifyPassword(after->password_hash, "another long passphrase 42"));
  EXPECT_GT(after->token_version, ed->token_version);

  std::ostringstream off;
  EXPECT_EQ(UserSetActive(temp.db(), "ed@example.com", false, off), 0);
  EXPECT_FALSE(Auth("ed@example.com")->active);

  std::ostringstream list;
  EXPECT_EQ(UserList(temp.db(), list), 0);
  EXPECT_NE(list.str().find("Admin@"), std::string::npos);
  EXPECT_NE(list.str().find("never"), std::string::npos);
  EXPECT_LT(list.str().find("Admin@"), list.str().find("ed@example.com"));

  // The last active admin cannot be disabled.
  std::ostringstream sink;
  EXPECT_THROW(UserSetActive(temp.db(), "admin@example.com", false, sink), AppError);
}

TEST_F(UserCommandsTest, ClearErrors) {
  std::ostringstream out;
  try {
    UserSetActive(temp.db(), "nobody@example.com", false, out);
    FAIL();
  } catch (const AppError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(e.message().find("nobody@example.com"), std::string::npos);
  }
  UserAddArgs args;
  args.email = "weak@example.com";
  args.name = "Weak";
  args.role = "editor";
  args.password_stdin = true;
  std::istringstream in("password\n");
  try {
    UserAdd(temp.db(), args, in, out);
    FAIL();
  } catch (const AppError& e) {
    ASSERT_FALSE(e.fields().empty());
    EXPECT_EQ(e.fields()[0].field, "password");
  }
  EXPECT_FALSE(Auth("weak@example.com"));
}

}  // namespace
}  // namespace poste::app
