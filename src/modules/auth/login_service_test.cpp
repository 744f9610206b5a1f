#include "modules/auth/login_service.hpp"

#include <gtest/gtest.h>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/totp.hpp"
#include "modules/auth/auth_test_support.hpp"
#include "modules/users/users_tokens_store.hpp"

namespace poste::auth {
namespace {

using testing::AuthDbTest;

struct Failure {
  int status = 0;
  std::string message;
  std::vector<FieldError> fields;
  std::int64_t retry_after_s = 0;
};

class LoginServiceTest : public AuthDbTest {
 protected:
  Failure Fails(const LoginRequest& request) {
    try {
      login_->Login(request);
    } catch (const LockedOut& e) {
      return {e.status(), e.message(), e.fields(), e.retry_after_s()};
    } catch (const AppError& e) {
      return {e.status(), e.message(), e.fields(), 0};
    }
    ADD_FAILURE() << "login succeeded";
    return {};
  }

  // Enables TOTP for the user and returns {raw secret, recovery codes}.
  std::pair<std::string, std::vector<std::string>> EnableTotp(std::int64_t user) {
    auto setup = credentials_->SetupTotp(user);
    auto secret = *crypto::Base32Decode(setup.secret);
    auto codes = credentials_->ConfirmTotp(user, crypto::Totp(secret, wall_ms / 1000), {});
    return {secret, codes};
  }
};

TEST_P(LoginServiceTest, SignsInAndRecordsTheLogin) {
  const auto id = AddUser("Ann@Example.com", "correct horse battery", "admin");
  auto result = login_->Login(Req("  ann@EXAMPLE.com ", "correct horse battery"));
  EXPECT_EQ(result.user.id, id);
  EXPECT_EQ(result.user.email, "Ann@Example.com");
  EXPECT_EQ(result.user.last_login_at, wall_ms);
  EXPECT_EQ(result.tokens.user_id, id);
  auto claims = tokens_->VerifyAccess(result.tokens.access_token);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->user_id, id);
  EXPECT_NO_THROW(tokens_->Refresh(result.tokens.refresh_token, {}));
}

TEST_P(LoginServiceTest, SameAnswerForUnknownEmailWrongPasswordAndInactiveUser) {
  AddUser("known@x.com", "correct horse battery");
  AddUser("gone@x.com", "correct horse battery", "editor", false);
  auto unknown = Fails(Req("nobody@x.com", "correct horse battery"));
  auto wrong = Fails(Req("known@x.com", "wrong horse battery"));
  auto inactive = Fails(Req("gone@x.com", "correct horse battery"));
  for (const auto* f : {&unknown, &wrong, &inactive}) {
    EXPECT_EQ(f->status, 401);
    EXPECT_EQ(f->message, kBadCredentials);
    EXPECT_TRUE(f->fields.empty());
  }
}

TEST_P(LoginServiceTest, LocksTheAccountAfterRepeatedFailures) {
  AddUser("victim@x.com", "correct horse battery");
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(Fails(Req("victim@x.com", "nope", {}, "10.0.0." + std::to_string(i))).status, 401);
  // The fifth failure earns the first lockout (60 s); it still answers 401 itself.
  EXPECT_EQ(Fails(Req("victim@x.com", "nope", {}, "10.0.1.1")).status, 401);
  // Locked: even the right password is refused without being checked, from any IP.
  auto locked = Fails(Req("VICTIM@x.com", "correct horse battery", {}, "10.0.2.2"));
  EXPECT_EQ(locked.status, 429);
  EXPECT_EQ(locked.retry_after_s, 60);
  steady_ms += 30'000;
  EXPECT_EQ(Fails(Req("victim@x.com", "correct horse battery")).retry_after_s, 30);
  steady_ms += 30'001;
  EXPECT_NO_THROW(login_->Login(Req("victim@x.com", "correct horse battery", {}, "10.0.3.3")));
  // A success cleared the account's streak: one more failure is a plain 401.
  EXPECT_EQ(Fails(Req("victim@x.com", "nope", {}, "10.0.4.4")).status, 401);
  EXPECT_NO_THROW(login_->Login(Req("victim@x.com", "correct horse battery", {}, "10.0.5.5")));
}

TEST_P(LoginServiceTest, LocksAnIpThatTriesManyAccounts) {
  AddUser("real@x.com", "correct horse battery");
  for (int i = 0; i < 5; ++i) Fails(Req("user" + std::to_string(i) + "@x.com", "guess", {}, "192.0.2.66"));
  auto locked = Fails(Req("real@x.com", "correct horse battery", {}, "192.0.2.66"));
  EXPECT_EQ(locked.status, 429);
  EXPECT_GE(locked.retry_after_s, 1);
  // Another client is not affected.
  EXPECT_NO_THROW(login_->Login(Req("real@x.com", "correct horse battery", {}, "192.0.2.67")));
}

TEST_P(LoginServiceTest, RehashesOutdatedPasswordHashes) {
  const auto id = AddUser("old@x.com", "correct horse battery", "editor", true, {2, 16 * 1024});
  const auto before = Auth(id).password_hash;
  ASSERT_TRUE(crypto::NeedsRehash(before, testing::FastParams()));
  login_->Login(Req("old@x.com", "correct horse battery"));
  const auto after = Auth(id).password_hash;
  EXPECT_NE(after, before);
  EXPECT_FALSE(crypto::NeedsRehash(after, testing::FastParams()));
  EXPECT_TRUE(crypto::VerifyPassword(after, "correct horse battery"));
  login_->Login(Req("old@x.com", "correct horse battery"));
  EXPECT_EQ(Auth(id).password_hash, after);  // current hashes are left alone
}

TEST_P(LoginServiceTest, TotpRequiredInvalidReplayAndRecoveryCodes) {
  const auto id = AddUser("two@x.com", "correct horse battery");
  auto [secret, recovery] = EnableTotp(id);
  ASSERT_EQ(recovery.size(), 10u);
  EXPECT_TRUE(Auth(id).totp_enabled);

  auto missing = Fails(Req("two@x.com", "correct horse battery"));
  EXPECT_EQ(missing.status, 401);
  ASSERT_EQ(missing.fields.size(), 1u);
  EXPECT_EQ(missing.fields[0].field, "totp");
  EXPECT_EQ(missing.fields[0].code, "required");

  // The code that confirmed the setup was spent: it cannot sign in.
  auto replay_of_setup = Fails(Req("two@x.com", "correct horse battery", crypto::Totp(secret, wall_ms / 1000)));
  ASSERT_EQ(replay_of_setup.fields.size(), 1u);
  EXPECT_EQ(replay_of_setup.fields[0].code, "invalid");

  wall_ms += 30'000;
  // A code the server's window (VerifyTotp: the steps around now) does not accept, whatever the secret.
  std::string wrong_code;
  for (const char* candidate : {"000000", "111111", "222222", "333333"}) {
    if (!crypto::VerifyTotp(secret, candidate, wall_ms / 1000)) {
      wrong_code = candidate;
      break;
    }
  }
  auto wrong = Fails(Req("two@x.com", "correct horse battery", wrong_code));
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(wrong.fields.at(0).code, "invalid");

  const auto code = crypto::Totp(secret, wall_ms / 1000);
  EXPECT_NO_THROW(login_->Login(Req("two@x.com", "correct horse battery", code)));
  EXPECT_EQ(Fails(Req("two@x.com", "correct horse battery", code)).fields.at(0).code, "invalid");  // replay

  // A wrong password with a good code is still the plain credentials answer.
  EXPECT_EQ(Fails(Req("two@x.com", "wrong", crypto::Totp(secret, wall_ms / 1000 + 30))).message, kBadCredentials);

  std::string typed = recovery[3];
  for (auto& c : typed) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_NO_THROW(login_->Login(Req("two@x.com", "correct horse battery", typed)));
  EXPECT_EQ(Fails(Req("two@x.com", "correct horse battery", recovery[3])).fields.at(0).code, "invalid");
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return users::store::CountUnusedRecoveryCodes(s, id); }), 9);
}

TEST_P(LoginServiceTest, TotpSetupStaysPendingUntilConfirmedAndCanBeDisabled) {
  const auto id = AddUser("pending@x.com", "correct horse battery");
  auto setup = credentials_->SetupTotp(id);
  EXPECT_NE(setup.uri.find("otpauth://totp/Poste:pending%40x.com?secret=" + setup.secret), std::string::npos);
  EXPECT_FALSE(Auth(id).totp_enabled);
  EXPECT_NO_THROW(login_->Login(Req("pending@x.com", "correct horse battery")));  // not required yet
  EXPECT_NE(*Auth(id).totp_secret, *crypto::Base32Decode(setup.secret));          // stored sealed

  try {
    credentials_->ConfirmTotp(id, "12345x", {});
    ADD_FAILURE();
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 422);
  }
  auto secret = *crypto::Base32Decode(setup.secret);
  credentials_->ConfirmTotp(id, crypto::Totp(secret, wall_ms / 1000), {});
  EXPECT_THROW(credentials_->SetupTotp(id), AppError);  // 409 while enabled

  EXPECT_THROW(credentials_->DisableTotp(id, "wrong", {}), AppError);
  EXPECT_TRUE(Auth(id).totp_enabled);
  credentials_->DisableTotp(id, "correct horse battery", {});
  EXPECT_FALSE(Auth(id).totp_enabled);
  EXPECT_FALSE(Auth(id).totp_secret.has_value());
  EXPECT_NO_THROW(login_->Login(Req("pending@x.com", "correct horse battery")));
}

POSTE_INSTANTIATE_DB_TEST(LoginServiceTest);

}  // namespace
}  // namespace poste::auth
