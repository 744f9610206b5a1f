#include "modules/auth/token_service.hpp"

#include <gtest/gtest.h>

#include "lib/crypto/encoding.hpp"
#include "modules/auth/auth_test_support.hpp"
#include "modules/users/users_tokens_store.hpp"

namespace poste::auth {
namespace {

using testing::AuthDbTest;

class TokenServiceTest : public AuthDbTest {
 protected:
  std::optional<users::RefreshToken> Row(const std::string& token) {
    return db().ReadValue([&](soci::session& s) { return users::store::FindRefreshTokenByHash(s, HashToken(token)); });
  }
  int Status(const std::function<void()>& fn) {
    try {
      fn();
    } catch (const AppError& e) {
      return e.status();
    }
    return 0;
  }
};

TEST(TokenServiceKey, RefusesShortKeys) {
  auto temp = std::make_unique<poste::testing::TempDatabase>(db::Dialect::kSqlite);
  EXPECT_THROW(TokenService(temp->db(), std::string(31, 'k')), std::invalid_argument);
  EXPECT_NO_THROW(TokenService(temp->db(), std::string(32, 'k')));
}

TEST_P(TokenServiceTest, AccessTokenClaimsAndExpiry) {
  const auto token = tokens_->IssueAccess(42, 3);
  auto claims = tokens_->VerifyAccess(token);
  ASSERT_TRUE(claims.has_value());
  EXPECT_EQ(claims->user_id, 42);
  EXPECT_EQ(claims->token_version, 3);
  EXPECT_FALSE(claims->jti.empty());
  EXPECT_EQ(claims->expires_at_s, wall_ms / 1000 + 900);

  auto payload = nlohmann::json::parse(
      *crypto::Base64UrlDecode(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1)));
  EXPECT_EQ(payload["iss"], "poste");
  EXPECT_EQ(payload["aud"], "poste-api");
  EXPECT_EQ(payload["sub"], "42");
  EXPECT_TRUE(payload.contains("iat") && payload.contains("nbf") && payload.contains("jti"));
  EXPECT_NE(tokens_->IssueAccess(42, 3), token);  // distinct jti

  wall_ms += 899'000;
  EXPECT_TRUE(tokens_->VerifyAccess(token).has_value());
  wall_ms += 7'000;  // past exp + 5 s leeway
  crypto::JwtError error = crypto::JwtError::kNone;
  EXPECT_FALSE(tokens_->VerifyAccess(token, &error).has_value());
  EXPECT_EQ(error, crypto::JwtError::kExpired);
}

TEST_P(TokenServiceTest, RejectsTamperedForeignAndAlgNone) {
  const auto token = tokens_->IssueAccess(7, 0);
  std::string tampered = token;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(tokens_->VerifyAccess(tampered).has_value());

  TokenService other(db(), std::string(32, 'o'), {}, [this] { return wall_ms; });
  EXPECT_FALSE(tokens_->VerifyAccess(other.IssueAccess(7, 0)).has_value());

  TokenOptions wrong_aud;
  wrong_aud.audience = "somebody-else";
  TokenService aud(db(), testing::kKey, wrong_aud, [this] { return wall_ms; });
  EXPECT_FALSE(tokens_->VerifyAccess(aud.IssueAccess(7, 0)).has_value());

  const std::string payload = token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1);
  const std::string none = crypto::Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." + payload + ".";
  crypto::JwtError error = crypto::JwtError::kNone;
  EXPECT_FALSE(tokens_->VerifyAccess(none, &error).has_value());
  EXPECT_NE(error, crypto::JwtError::kNone);

  // A correctly signed token whose subject is not a user id.
  nlohmann::json claims = {
      {"sub", "admin"}, {"ver", 0}, {"iss", "poste"}, {"aud", "poste-api"}, {"exp", wall_ms / 1000 + 60}};
  EXPECT_FALSE(tokens_->VerifyAccess(crypto::SignJwt(claims, testing::kKey)).has_value());
}

TEST_P(TokenServiceTest, RefreshRotatesAndStoresOnlyHashes) {
  const auto user = AddUser("rot@x.com", "correct horse battery");
  auto first = tokens_->IssueSession(user, 0, {"198.51.100.1", "agent", "r1"});
  EXPECT_EQ(first.expires_in_s, 900);
  EXPECT_EQ(first.refresh_expires_at_ms, wall_ms + std::int64_t{30} * 86'400'000);
  auto row = Row(first.refresh_token);
  ASSERT_TRUE(row.has_value());
  EXPECT_NE(row->token_hash, first.refresh_token);
  EXPECT_EQ(row->token_hash.size(), 64u);
  EXPECT_EQ(row->ip, "198.51.100.1");

  wall_ms += 60'000;
  auto second = tokens_->Refresh(first.refresh_token, {"198.51.100.2", "agent", "r2"});
  EXPECT_NE(second.refresh_token, first.refresh_token);
  EXPECT_EQ(second.user_id, user);
  EXPECT_TRUE(tokens_->VerifyAccess(second.access_token).has_value());
  EXPECT_TRUE(Row(first.refresh_token)->rotated_at.has_value());
  EXPECT_EQ(Row(second.refresh_token)->family_id, row->family_id);

  auto third = tokens_->Refresh(second.refresh_token, {});
  EXPECT_EQ(Row(third.refresh_token)->family_id, row->family_id);
}

TEST_P(TokenServiceTest, ReusingARotatedTokenRevokesTheFamily) {
  const auto user = AddUser("reuse@x.com", "correct horse battery");
  auto first = tokens_->IssueSession(user, 0, {});
  auto other_family = tokens_->IssueSession(user, 0, {});
  auto second = tokens_->Refresh(first.refresh_token, {});
  EXPECT_EQ(Status([&] { tokens_->Refresh(first.refresh_token, {}); }), 401);  // the leak is detected
  EXPECT_TRUE(Row(second.refresh_token)->revoked_at.has_value());
  EXPECT_EQ(Status([&] { tokens_->Refresh(second.refresh_token, {}); }), 401);  // the thief's token is dead too
  // Another sign-in of the same user is untouched.
  EXPECT_NO_THROW(tokens_->Refresh(other_family.refresh_token, {}));
}

TEST_P(TokenServiceTest, UnknownExpiredAndInactive) {
  EXPECT_EQ(Status([&] { tokens_->Refresh("not-a-token", {}); }), 401);
  const auto user = AddUser("exp@x.com", "correct horse battery");
  auto session = tokens_->IssueSession(user, 0, {});
  wall_ms += std::int64_t{30} * 86'400'000;
  EXPECT_EQ(Status([&] { tokens_->Refresh(session.refresh_token, {}); }), 401);

  wall_ms = 1'700'000'000'000;
  auto live = tokens_->IssueSession(user, 0, {});
  users::UserPatch patch;
  patch.active = false;
  db().Write([&](soci::session& s) { users::store::Update(s, user, patch, wall_ms); });
  EXPECT_EQ(Status([&] { tokens_->Refresh(live.refresh_token, {}); }), 401);
  EXPECT_TRUE(Row(live.refresh_token)->revoked_at.has_value());
}

TEST_P(TokenServiceTest, RefreshCarriesTheCurrentTokenVersion) {
  const auto user = AddUser("ver@x.com", "correct horse battery");
  auto session = tokens_->IssueSession(user, 0, {});
  db().Write([&](soci::session& s) { users::store::BumpTokenVersion(s, user); });
  auto next = tokens_->Refresh(session.refresh_token, {});
  EXPECT_EQ(tokens_->VerifyAccess(next.access_token)->token_version, 1);
}

TEST_P(TokenServiceTest, LogoutRevokesTheFamily) {
  const auto user = AddUser("out@x.com", "correct horse battery");
  auto first = tokens_->IssueSession(user, 0, {});
  auto second = tokens_->Refresh(first.refresh_token, {});
  EXPECT_TRUE(tokens_->Logout(second.refresh_token));
  EXPECT_EQ(Status([&] { tokens_->Refresh(second.refresh_token, {}); }), 401);
  EXPECT_TRUE(tokens_->Logout(second.refresh_token));  // idempotent
  EXPECT_FALSE(tokens_->Logout("unknown"));
  auto other = tokens_->IssueSession(user, 0, {});
  EXPECT_EQ(tokens_->RevokeAll(user), 1);
  EXPECT_EQ(Status([&] { tokens_->Refresh(other.refresh_token, {}); }), 401);
}

POSTE_INSTANTIATE_DB_TEST(TokenServiceTest);

}  // namespace
}  // namespace poste::auth
