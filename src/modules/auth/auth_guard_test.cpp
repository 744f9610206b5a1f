#include "modules/auth/auth_guard.hpp"

#include <gtest/gtest.h>

#include "modules/auth/auth_test_support.hpp"
#include "modules/users/users_tokens_store.hpp"

namespace poste::auth {
namespace {

using testing::AuthDbTest;

class AuthGuardTest : public AuthDbTest {
 protected:
  void SetUp() override {
    AuthDbTest::SetUp();
    guard_ = std::make_unique<AuthGuard>(db(), *tokens_, AuthGuardOptions{}, [this] { return steady_ms; });
  }
  std::optional<users::ApiKey> KeyRow(std::int64_t user, std::int64_t id) {
    for (auto& k : credentials_->ListApiKeys(user)) {
      if (k.id == id) return k;
    }
    return std::nullopt;
  }
  std::unique_ptr<AuthGuard> guard_;
};

TEST_P(AuthGuardTest, AccessTokenPrincipalAndTokenVersion) {
  const auto admin = AddUser("admin@x.com", "correct horse battery", "admin");
  auto principal = guard_->FromAccessToken(tokens_->IssueAccess(admin, 0));
  ASSERT_TRUE(principal.has_value());
  EXPECT_EQ(principal->user_id, admin);
  EXPECT_TRUE(principal->admin);
  EXPECT_FALSE(principal->api_key_id.has_value());
  EXPECT_FALSE(guard_->FromAccessToken(tokens_->IssueAccess(admin, 1)).has_value());        // wrong version
  EXPECT_FALSE(guard_->FromAccessToken(tokens_->IssueAccess(admin + 100, 0)).has_value());  // no such user
  EXPECT_FALSE(guard_->FromAccessToken("garbage").has_value());
}

TEST_P(AuthGuardTest, CachesUserFactsForTheTtlUnlessInvalidated) {
  const auto id = AddUser("ed@x.com", "correct horse battery");
  const auto token = tokens_->IssueAccess(id, 0);
  ASSERT_TRUE(guard_->FromAccessToken(token).has_value());
  users::UserPatch off;
  off.active = false;
  db().Write([&](soci::session& s) { users::store::Update(s, id, off, wall_ms); });
  // Within the TTL the cached facts answer (no SQL on the hot path)...
  steady_ms += 4'000;
  EXPECT_TRUE(guard_->FromAccessToken(token).has_value());
  // ...after it, the change shows.
  steady_ms += 1'001;
  EXPECT_FALSE(guard_->FromAccessToken(token).has_value());

  users::UserPatch on;
  on.active = true;
  db().Write([&](soci::session& s) { users::store::Update(s, id, on, wall_ms); });
  EXPECT_FALSE(guard_->FromAccessToken(token).has_value());  // still cached as inactive
  guard_->Invalidate(id);
  EXPECT_TRUE(guard_->FromAccessToken(token).has_value());  // the hook makes it immediate
}

TEST_P(AuthGuardTest, ApiKeysScopesExpiryRevocationAndThrottledTouch) {
  const auto id = AddUser("keys@x.com", "correct horse battery", "admin");
  web::Principal caller;
  caller.user_id = id;
  caller.admin = true;
  auto created = credentials_->CreateApiKey(caller, {}, "ci", {7, 3}, wall_ms + 3'600'000, {});
  EXPECT_TRUE(created.secret.starts_with("pst_"));
  EXPECT_EQ(created.key.prefix, created.secret.substr(0, 12));
  EXPECT_EQ(created.key.site_ids, (std::vector<std::int64_t>{3, 7}));

  auto p = guard_->FromApiKey(created.secret);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->api_key_id, created.key.id);
  EXPECT_EQ(p->key_sites, (std::vector<std::int64_t>{3, 7}));
  EXPECT_TRUE(p->CanAccessSite(3));
  EXPECT_FALSE(p->CanAccessSite(4));  // an admin, but the key is limited
  EXPECT_EQ(KeyRow(id, created.key.id)->last_used_at, wall_ms);

  const auto first_use = wall_ms;
  wall_ms += 30'000;
  steady_ms += 30'000;
  ASSERT_TRUE(guard_->FromApiKey(created.secret).has_value());
  EXPECT_EQ(KeyRow(id, created.key.id)->last_used_at, first_use);  // at most once a minute
  wall_ms += 31'000;
  steady_ms += 31'000;
  ASSERT_TRUE(guard_->FromApiKey(created.secret).has_value());
  EXPECT_EQ(KeyRow(id, created.key.id)->last_used_at, wall_ms);

  EXPECT_FALSE(guard_->FromApiKey(created.secret + "x").has_value());
  EXPECT_FALSE(guard_->FromApiKey(created.secret.substr(4)).has_value());  // without its prefix
  wall_ms += 3'600'000;
  EXPECT_FALSE(guard_->FromApiKey(created.secret).has_value());  // expired

  auto other = credentials_->CreateApiKey(caller, {}, "other", {}, std::nullopt, {});
  ASSERT_TRUE(guard_->FromApiKey(other.secret).has_value());
  auto cached = guard_->CachedApiKey(other.secret);  // the next request needs no SQL
  ASSERT_TRUE(cached.has_value());
  ASSERT_TRUE(cached->has_value());
  EXPECT_EQ((*cached)->api_key_id, other.key.id);
  EXPECT_TRUE(credentials_->RevokeApiKey(id, other.key.id, {}));
  // Revoked elsewhere (another instance, the CLI): the cache answers until its TTL...
  EXPECT_TRUE(guard_->FromApiKey(other.secret).has_value());
  steady_ms += 5'000;
  EXPECT_FALSE(guard_->FromApiKey(other.secret).has_value());
  // ...revoked through this instance's route, which forgets the key: refused at once.
  auto third = credentials_->CreateApiKey(caller, {}, "third", {}, std::nullopt, {});
  ASSERT_TRUE(guard_->FromApiKey(third.secret).has_value());
  EXPECT_TRUE(credentials_->RevokeApiKey(id, third.key.id, {}));
  guard_->ForgetApiKey(third.key.id);
  EXPECT_FALSE(guard_->CachedApiKey(third.secret).has_value());
  EXPECT_FALSE(guard_->FromApiKey(third.secret).has_value());
  // An unknown key is never answered from the cache.
  EXPECT_FALSE(guard_->CachedApiKey("pst_unknown").has_value());
  EXPECT_FALSE(credentials_->RevokeApiKey(id + 1, created.key.id, {}));  // not that user's key
}

TEST_P(AuthGuardTest, EditorsMayScopeKeysOnlyToTheirOwnSites) {
  const auto id = AddUser("ed2@x.com", "correct horse battery");
  web::Principal editor;
  editor.user_id = id;
  editor.site_ids = {5};
  EXPECT_NO_THROW(credentials_->CreateApiKey(editor, {}, "ok", {5}, std::nullopt, {}));
  try {
    credentials_->CreateApiKey(editor, {}, "no", {5, 6}, std::nullopt, {});
    ADD_FAILURE();
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 422);
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].field, "site_ids");
  }
  web::Principal admin;
  admin.user_id = id;
  admin.admin = true;
  SiteResolver only_five = [](std::string_view s) -> std::optional<std::int64_t> {
    if (s == "5") return 5;
    return std::nullopt;
  };
  EXPECT_NO_THROW(credentials_->CreateApiKey(admin, {}, "ok", {5}, std::nullopt, only_five));
  EXPECT_THROW(credentials_->CreateApiKey(admin, {}, "no", {9}, std::nullopt, only_five), AppError);
}

POSTE_INSTANTIATE_DB_TEST(AuthGuardTest);

}  // namespace
}  // namespace poste::auth
