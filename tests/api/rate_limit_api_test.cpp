// The signed-in API's rate limits in the whole App (issue 3, "Audit and limits"): per IP before the
// credentials are checked, per user and per API key after, with RateLimit-* headers and 429 + Retry-After.
// Runs on a fresh SQLite and PostgreSQL database with small limits from the configuration.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>
#include <string>

#include "db/database.hpp"
#include "http/pipeline.hpp"
#include "lib/crypto/password.hpp"
#include "modules/users/users_store.hpp"
#include "scenario.hpp"
#include "support/run_task.hpp"

namespace poste::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
constexpr const char* kPassword = "correct horse battery staple";

class RateLimitApi : public ApiTest {
 protected:
  void Configure(app::Config& config) override {
    config.rate_limit.api_per_ip = 8;
    config.rate_limit.api_per_user = 5;
    config.rate_limit.api_per_api_key = 3;
  }

  void SetUp() override {
    ApiTest::SetUp();
    for (const char* email : {"one@example.com", "two@example.com"}) {
      users::NewUser u;
      u.email = email;
      u.name = email;
      u.password_hash = crypto::HashPassword(kPassword);
      u.role = "admin";
      db().WriteValue([&](soci::session& s) { return users::store::Insert(s, u, 1); });
    }
  }

  web::Response From(const std::string& ip, const std::string& method, const std::string& target,
                     const Headers& headers = {}, const std::string& body = {}) {
    return CallFrom(ip, method, target, headers, body);
  }

  Headers Session(const std::string& email) {
    auto r = From("192.0.2.200", "POST", "/api/v1/auth/login", {},
                  nlohmann::json{{"email", email}, {"password", kPassword}}.dump());
    EXPECT_EQ(r.status, 200) << r.body;
    return {{"Authorization", "Bearer " + nlohmann::json::parse(r.body)["access_token"].get<std::string>()}};
  }
};

TEST_P(RateLimitApi, EachUserHasABucketWhereverTheRequestsComeFrom) {
  auto one = Session("one@example.com");
  auto two = Session("two@example.com");
  for (int i = 0; i < 5; ++i) {
    auto r = From("198.51.100." + std::to_string(i + 1), "GET", "/api/v1/users", one);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers.Get("RateLimit-Limit").value_or(""), "5");
    EXPECT_EQ(r.headers.Get("RateLimit-Remaining").value_or(""), std::to_string(4 - i));
  }
  auto refused = From("198.51.100.77", "GET", "/api/v1/sites", one);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(refused.headers.Get("Retry-After").value_or(""), "12");  // 5 a minute: one every 12 s
  EXPECT_EQ(refused.headers.Get("RateLimit-Remaining").value_or(""), "0");
  // The credential routes share the user's bucket; another user does not.
  EXPECT_EQ(From("198.51.100.78", "GET", "/api/v1/auth/me", one).status, 429);
  EXPECT_EQ(From("198.51.100.78", "GET", "/api/v1/auth/me", two).status, 200);
}

TEST_P(RateLimitApi, ApiKeysHaveTheirOwnSmallerBucket) {
  auto one = Session("one@example.com");
  auto created = From("198.51.100.1", "POST", "/api/v1/auth/api-keys", one, R"({"name":"ci"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const Headers key = {{"Authorization", "Bearer " + nlohmann::json::parse(created.body)["key"].get<std::string>()}};
  for (int i = 0; i < 3; ++i) ASSERT_EQ(From("203.0.113.1", "GET", "/api/v1/auth/me", key).status, 200);
  auto refused = From("203.0.113.2", "GET", "/api/v1/auth/me", key);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.headers.Get("RateLimit-Limit").value_or(""), "3");
  EXPECT_EQ(From("203.0.113.3", "GET", "/api/v1/auth/me", one).status, 200) << "the key's owner still has a bucket";
}

TEST_P(RateLimitApi, BadCredentialsAreThrottledPerIpBeforeTheyAreChecked) {
  const Headers forged = {{"Authorization", "Bearer pst_forged_key_guess"}};
  for (int i = 0; i < 8; ++i) ASSERT_EQ(From("192.0.2.66", "GET", "/api/v1/users", forged).status, 401);
  auto refused = From("192.0.2.66", "GET", "/api/v1/users", forged);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.headers.Get("Retry-After").value_or(""), "8");  // 8 a minute: one every 7.5 s
  EXPECT_EQ(From("192.0.2.67", "GET", "/api/v1/users", forged).status, 401) << "another IP is not affected";
  // Anonymous callers count per IP too, and public routes are outside the group.
  EXPECT_EQ(From("192.0.2.66", "GET", "/api/v1/auth/me").status, 429);
  EXPECT_EQ(From("192.0.2.66", "GET", "/healthz").status, 200);
}

POSTE_INSTANTIATE_DB_TEST(RateLimitApi);

}  // namespace
}  // namespace poste::testing
