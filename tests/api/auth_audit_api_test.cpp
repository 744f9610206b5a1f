// Security events of sign-in and credentials reach the audit log (issue 3, "Audit and limits"): failed and
// successful sign-ins, API keys created and revoked, TOTP turned on and off, a reused refresh token. Runs the
// whole App on a fresh SQLite and PostgreSQL database.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "db/database.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/password.hpp"
#include "lib/crypto/totp.hpp"
#include "modules/users/users_store.hpp"
#include "scenario.hpp"

namespace poste::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
constexpr const char* kPassword = "correct horse battery staple";

class AuthAuditApi : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    users::NewUser u;
    u.email = "audited@example.com";
    u.name = "Audited";
    u.password_hash = crypto::HashPassword(kPassword);
    u.role = "admin";
    user_ = db().WriteValue([&](soci::session& s) { return users::store::Insert(s, u, 1); });
  }

  web::Response Post(const std::string& target, const nlohmann::json& body, Headers headers = {}) {
    headers.emplace_back("Content-Type", "application/json");
    return Call("POST", target, headers, body.dump());
  }

  nlohmann::json Login() {
    auto r = Post("/api/v1/auth/login", {{"email", "audited@example.com"}, {"password", kPassword}});
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body);
  }

  // The audit entries whose action starts with `prefix`, oldest first.
  std::vector<nlohmann::json> Entries(const Headers& admin, const std::string& prefix) {
    auto r = Call("GET", "/api/v1/audit?limit=200&action=" + prefix + "*", admin);
    EXPECT_EQ(r.status, 200) << r.body;
    std::vector<nlohmann::json> out;
    const auto page = nlohmann::json::parse(r.body);
    for (const auto& e : page["items"]) out.insert(out.begin(), e);
    return out;
  }

  std::int64_t user_ = 0;
};

TEST_P(AuthAuditApi, SignInsCredentialsAndReuseAreAudited) {
  EXPECT_EQ(Post("/api/v1/auth/login", {{"email", "nobody@example.com"}, {"password", kPassword}}).status, 401);
  EXPECT_EQ(Post("/api/v1/auth/login", {{"email", "audited@example.com"}, {"password", "wrong password!"}}).status,
            401);
  auto session = Login();
  const Headers me = {{"Authorization", "Bearer " + session["access_token"].get<std::string>()}};

  auto failed = Entries(me, "auth.login_failed");
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0]["changes"]["reason"], "unknown_email");
  EXPECT_EQ(failed[0]["changes"]["email"], "nobody@example.com");
  EXPECT_EQ(failed[0]["object_id"], "");
  EXPECT_TRUE(failed[0]["actor_user_id"].is_null());
  EXPECT_EQ(failed[1]["changes"]["reason"], "wrong_password");
  EXPECT_EQ(failed[1]["object_id"], std::to_string(user_));
  EXPECT_EQ(failed[1]["ip"], "127.0.0.1");
  for (const auto& e : failed) EXPECT_EQ(e["changes"].dump().find("wrong password"), std::string::npos) << e;

  auto logins = Entries(me, "auth.login");
  ASSERT_FALSE(logins.empty());
  EXPECT_EQ(logins.back()["action"], "auth.login");
  EXPECT_EQ(logins.back()["actor_user_id"], user_);
  EXPECT_FALSE(logins.back()["request_id"].get<std::string>().empty());

  // API keys.
  auto created = Post("/api/v1/auth/api-keys", {{"name", "deploy"}}, me);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto key = nlohmann::json::parse(created.body);
  ASSERT_EQ(Call("DELETE", "/api/v1/auth/api-keys/" + std::to_string(key["id"].get<std::int64_t>()), me).status, 204);
  auto keys = Entries(me, "api_key.");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0]["action"], "api_key.create");
  EXPECT_EQ(keys[0]["changes"]["name"], "deploy");
  EXPECT_EQ(keys[0]["object_id"], std::to_string(key["id"].get<std::int64_t>()));
  EXPECT_EQ(keys[1]["action"], "api_key.revoke");
  const std::string secret = key["key"];
  for (const auto& e : keys) EXPECT_EQ(e.dump().find(secret), std::string::npos) << "the key leaked: " << e;

  // TOTP on, then off.
  auto setup = Call("POST", "/api/v1/auth/totp/setup", me);
  ASSERT_EQ(setup.status, 200) << setup.body;
  auto raw = crypto::Base32Decode(nlohmann::json::parse(setup.body)["secret"].get<std::string>());
  ASSERT_TRUE(raw.has_value());
  auto confirm = Post("/api/v1/auth/totp/confirm", {{"code", crypto::Totp(*raw, std::time(nullptr))}}, me);
  ASSERT_EQ(confirm.status, 200) << confirm.body;
  ASSERT_EQ(Post("/api/v1/auth/totp/disable", {{"password", kPassword}}, me).status, 204);
  auto totp = Entries(me, "user.totp.");
  ASSERT_EQ(totp.size(), 2u);
  EXPECT_EQ(totp[0]["action"], "user.totp.enable");
  EXPECT_EQ(totp[1]["action"], "user.totp.disable");
  EXPECT_EQ(totp[1]["object_id"], std::to_string(user_));

  // A rotated refresh token presented again.
  const std::string old_refresh = session["refresh_token"];
  ASSERT_EQ(Post("/api/v1/auth/refresh", {{"refresh_token", old_refresh}}).status, 200);
  ASSERT_EQ(Post("/api/v1/auth/refresh", {{"refresh_token", old_refresh}}).status, 401);
  auto fresh = Login();
  const Headers again = {{"Authorization", "Bearer " + fresh["access_token"].get<std::string>()}};
  auto reuse = Entries(again, "auth.refresh_reuse");
  ASSERT_EQ(reuse.size(), 1u);
  EXPECT_EQ(reuse[0]["object_id"], std::to_string(user_));
  EXPECT_TRUE(reuse[0]["actor_user_id"].is_null());
}

POSTE_INSTANTIATE_DB_TEST(AuthAuditApi);

}  // namespace
}  // namespace poste::testing
