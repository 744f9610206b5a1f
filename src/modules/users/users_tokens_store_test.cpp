#include "modules/users/users_tokens_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "modules/users/users_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::users {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;
constexpr std::int64_t kDay = 86'400'000;

const std::string& Nasty() {
  static const std::string text = "a\r\nb'; DROP TABLE api_keys; --\"<img src=x onerror=alert(1)>";
  return text;
}

class UsersTokensStoreTest : public poste::testing::DbTest {
 protected:
  std::int64_t AddUser(const std::string& email) {
    NewUser u;
    u.email = email;
    u.name = email;
    u.password_hash = "hash";
    return db().WriteValue([&](soci::session& s) { return store::Insert(s, u, kNow); });
  }
  std::int64_t AddToken(std::int64_t user, const std::string& family, const std::string& hash) {
    NewRefreshToken t{user, family, hash, kNow + 30 * kDay, "203.0.113.7", "curl/8"};
    return db().WriteValue([&](soci::session& s) { return store::InsertRefreshToken(s, t, kNow); });
  }
  std::optional<RefreshToken> FindToken(const std::string& hash) {
    return db().ReadValue([&](soci::session& s) { return store::FindRefreshTokenByHash(s, hash); });
  }
  std::int64_t AddKey(std::int64_t user, const std::string& hash, std::vector<std::int64_t> sites = {}) {
    NewApiKey k{user, "deploy script", "pst_ab12", hash, std::move(sites), std::nullopt};
    return db().WriteValue([&](soci::session& s) { return store::InsertApiKey(s, k, kNow); });
  }
};

TEST_P(UsersTokensStoreTest, RefreshTokenRoundTrip) {
  const auto user = AddUser("e@x.com");
  const auto id = AddToken(user, "fam-1", "h1");
  const auto token = FindToken("h1");
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->id, id);
  EXPECT_EQ(token->user_id, user);
  EXPECT_EQ(token->family_id, "fam-1");
  EXPECT_EQ(token->token_hash, "h1");
  EXPECT_EQ(token->created_at, kNow);
  EXPECT_EQ(token->expires_at, kNow + 30 * kDay);
  EXPECT_FALSE(token->rotated_at.has_value());
  EXPECT_FALSE(token->revoked_at.has_value());
  EXPECT_EQ(token->ip, "203.0.113.7");
  EXPECT_EQ(token->user_agent, "curl/8");
  EXPECT_FALSE(FindToken("h2").has_value());
}

TEST_P(UsersTokensStoreTest, ATokenIsRotatedOnce) {
  const auto user = AddUser("e@x.com");
  const auto id = AddToken(user, "fam-1", "h1");
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::MarkRotated(s, id, kNow + 1); }));
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::MarkRotated(s, id, kNow + 2); }));
  EXPECT_EQ(FindToken("h1")->rotated_at, kNow + 1);
}

TEST_P(UsersTokensStoreTest, RevokingAFamilyLeavesOtherFamiliesAlone) {
  const auto user = AddUser("e@x.com");
  AddToken(user, "fam-1", "h1");
  const auto second = AddToken(user, "fam-1", "h2");
  AddToken(user, "fam-2", "h3");
  EXPECT_EQ(db().WriteValue([](soci::session& s) { return store::RevokeFamily(s, "fam-1", kNow + 5); }), 2);
  EXPECT_EQ(FindToken("h1")->revoked_at, kNow + 5);
  EXPECT_EQ(FindToken("h2")->revoked_at, kNow + 5);
  EXPECT_FALSE(FindToken("h3")->revoked_at.has_value());
  // A revoked token cannot be rotated, and revoking again keeps the first time.
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::MarkRotated(s, second, kNow + 6); }));
  EXPECT_EQ(db().WriteValue([](soci::session& s) { return store::RevokeFamily(s, "fam-1", kNow + 7); }), 0);
  EXPECT_EQ(FindToken("h1")->revoked_at, kNow + 5);
}

TEST_P(UsersTokensStoreTest, RevokeAllForUserAndPurge) {
  const auto alice = AddUser("alice@x.com"), bob = AddUser("bob@x.com");
  AddToken(alice, "a1", "ha1");
  AddToken(alice, "a2", "ha2");
  AddToken(bob, "b1", "hb1");
  EXPECT_EQ(db().WriteValue([&](soci::session& s) { return store::RevokeAllForUser(s, alice, kNow + 1); }), 2);
  EXPECT_TRUE(FindToken("ha2")->revoked_at.has_value());
  EXPECT_FALSE(FindToken("hb1")->revoked_at.has_value());
  EXPECT_EQ(db().WriteValue([](soci::session& s) { return store::DeleteExpiredRefreshTokens(s, kNow); }), 0);
  EXPECT_EQ(db().WriteValue([](soci::session& s) { return store::DeleteExpiredRefreshTokens(s, kNow + 31 * kDay); }),
            3);
  EXPECT_FALSE(FindToken("hb1").has_value());
}

TEST_P(UsersTokensStoreTest, ApiKeyRoundTripWithoutItsHash) {
  const auto user = AddUser("e@x.com");
  const auto id = AddKey(user, "kh1", {4, 2});
  const auto key = db().ReadValue([](soci::session& s) { return store::FindApiKeyByHash(s, "kh1"); });
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->id, id);
  EXPECT_EQ(key->user_id, user);
  EXPECT_EQ(key->name, "deploy script");
  EXPECT_EQ(key->prefix, "pst_ab12");
  EXPECT_EQ(key->site_ids, (std::vector<std::int64_t>{4, 2}));
  EXPECT_EQ(key->created_at, kNow);
  EXPECT_FALSE(key->last_used_at.has_value());
  EXPECT_TRUE(key->UsableAt(kNow));
  EXPECT_FALSE(db().ReadValue([](soci::session& s) { return store::FindApiKeyByHash(s, "nope"); }).has_value());

  db().Write([&](soci::session& s) { store::TouchApiKey(s, id, kNow + 3); });
  const auto touched = db().ReadValue([](soci::session& s) { return store::FindApiKeyByHash(s, "kh1"); });
  EXPECT_EQ(touched->last_used_at, kNow + 3);
  const auto json = ToJson(*touched);
  EXPECT_EQ(json["prefix"], "pst_ab12");
  EXPECT_EQ(json["last_used_at"], kNow + 3);
  EXPECT_FALSE(json.contains("key_hash"));
}

TEST_P(UsersTokensStoreTest, OnlyTheOwnerRevokesAKey) {
  const auto alice = AddUser("alice@x.com"), bob = AddUser("bob@x.com");
  const auto key = AddKey(alice, "kh1");
  AddKey(bob, "kh2");
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::RevokeApiKey(s, bob, key, kNow + 1); }));
  EXPECT_FALSE(db().ReadValue([](soci::session& s) { return store::FindApiKeyByHash(s, "kh1"); })->revoked_at);
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::RevokeApiKey(s, alice, key, kNow + 2); }));
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::RevokeApiKey(s, alice, key, kNow + 3); }));
  const auto revoked = db().ReadValue([](soci::session& s) { return store::FindApiKeyByHash(s, "kh1"); });
  EXPECT_EQ(revoked->revoked_at, kNow + 2);
  EXPECT_FALSE(revoked->UsableAt(kNow + 4));
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::RevokeApiKey(s, alice, key + 99, kNow); }));

  const auto listed = db().ReadValue([&](soci::session& s) { return store::ListApiKeys(s, alice); });
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, key);
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::ListApiKeys(s, bob); }).size(), 1u);
}

TEST_P(UsersTokensStoreTest, KeysListNewestFirstAndExpire) {
  const auto user = AddUser("e@x.com");
  const auto first = AddKey(user, "kh1");
  NewApiKey k{user, "short-lived", "pst_cd34", "kh2", {}, kNow + kDay};
  const auto second = db().WriteValue([&](soci::session& s) { return store::InsertApiKey(s, k, kNow); });
  const auto listed = db().ReadValue([&](soci::session& s) { return store::ListApiKeys(s, user); });
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].id, second);
  EXPECT_EQ(listed[1].id, first);
  EXPECT_EQ(listed[0].expires_at, kNow + kDay);
  EXPECT_TRUE(listed[0].UsableAt(kNow + kDay - 1));
  EXPECT_FALSE(listed[0].UsableAt(kNow + kDay));
}

TEST_P(UsersTokensStoreTest, DeletingAUserDeletesItsCredentials) {
  const auto user = AddUser("e@x.com");
  AddToken(user, "f", "h1");
  AddKey(user, "kh1");
  db().Write([&](soci::session& s) { store::ReplaceRecoveryCodes(s, user, {"c1", "c2"}); });
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::Delete(s, user); }));
  EXPECT_FALSE(FindToken("h1").has_value());
  EXPECT_FALSE(db().ReadValue([](soci::session& s) { return store::FindApiKeyByHash(s, "kh1"); }).has_value());
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::CountUnusedRecoveryCodes(s, user); }), 0);
}

TEST_P(UsersTokensStoreTest, RecoveryCodesAreSpentOnceAndReplacedAsASet) {
  const auto alice = AddUser("alice@x.com"), bob = AddUser("bob@x.com");
  db().Write([&](soci::session& s) { store::ReplaceRecoveryCodes(s, alice, {"c1", "c2", "c3"}); });
  const auto use = [&](std::int64_t user, const std::string& hash) {
    return db().WriteValue([&](soci::session& s) { return store::UseRecoveryCode(s, user, hash, kNow); });
  };
  EXPECT_FALSE(use(bob, "c1"));  // not bob's
  EXPECT_TRUE(use(alice, "c1"));
  EXPECT_FALSE(use(alice, "c1"));  // spent
  EXPECT_FALSE(use(alice, "zz"));
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::CountUnusedRecoveryCodes(s, alice); }), 2);
  db().Write([&](soci::session& s) { store::ReplaceRecoveryCodes(s, alice, {"n1"}); });
  EXPECT_FALSE(use(alice, "c2"));  // the old set is gone
  EXPECT_TRUE(use(alice, "n1"));
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::CountUnusedRecoveryCodes(s, alice); }), 0);
}

TEST_P(UsersTokensStoreTest, HostileTextIsStoredVerbatim) {
  const auto user = AddUser("e@x.com");
  NewRefreshToken t{user, Nasty(), Nasty() + "h", kNow + kDay, Nasty(), Nasty()};
  db().Write([&](soci::session& s) { store::InsertRefreshToken(s, t, kNow); });
  const auto token = FindToken(Nasty() + "h");
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->family_id, Nasty());
  EXPECT_EQ(token->ip, Nasty());
  EXPECT_EQ(token->user_agent, Nasty());
  EXPECT_EQ(db().WriteValue([](soci::session& s) { return store::RevokeFamily(s, Nasty(), kNow); }), 1);

  NewApiKey k{user, Nasty(), Nasty(), Nasty(), {}, std::nullopt};
  db().Write([&](soci::session& s) { store::InsertApiKey(s, k, kNow); });
  const auto key = db().ReadValue([](soci::session& s) { return store::FindApiKeyByHash(s, Nasty()); });
  ASSERT_TRUE(key.has_value());
  EXPECT_EQ(key->name, Nasty());
  EXPECT_EQ(key->prefix, Nasty());
  EXPECT_TRUE(key->site_ids.empty());

  db().Write([&](soci::session& s) { store::ReplaceRecoveryCodes(s, user, {Nasty()}); });
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::UseRecoveryCode(s, user, Nasty(), kNow); }));
}

POSTE_INSTANTIATE_DB_TEST(UsersTokensStoreTest);

}  // namespace
}  // namespace poste::users
