#include "lib/ratelimit/middleware.hpp"

#include <gtest/gtest.h>

#include <string>

#include "lib/ratelimit/memory_limiter.hpp"
#include "support/run_task.hpp"

namespace poste::ratelimit {
namespace {

class RateLimitMiddleware : public ::testing::Test {
 protected:
  // Runs `chain` (outermost first) in front of a handler answering 200, for a request from `ip`, with the
  // principal that `who` sets (the stand-in for the authentication middleware between the two limiters).
  web::Response Call(const std::string& ip, std::optional<web::Principal> who = std::nullopt) {
    web::Request request;
    request.method = "GET";
    request.path = "/api/v1/things";
    request.remote_ip = ip;
    web::RequestContext ctx{request, {}, {}, {}, std::nullopt, 0};
    ctx.request_id = "rid";
    web::Next handler = [this](web::RequestContext&) -> web::Task<web::Response> {
      ++handled_;
      co_return web::Response::Json(200, "{}");
    };
    web::Next after_auth = [this, &handler](web::RequestContext& c) -> web::Task<web::Response> {
      co_return co_await per_caller_(c, handler);
    };
    web::Next authenticate = [&who, &after_auth](web::RequestContext& c) -> web::Task<web::Response> {
      c.principal = who;
      co_return co_await after_auth(c);
    };
    return poste::testing::RunTask(per_ip_(ctx, authenticate));
  }

  static web::Principal User(std::int64_t id, std::optional<std::int64_t> key = std::nullopt) {
    web::Principal p;
    p.user_id = id;
    p.api_key_id = key;
    return p;
  }

  std::int64_t now_ = 1'000'000;
  MemoryLimiter limiter_;
  GroupRules rules_{"api", PerMinute(3), PerMinute(5), PerMinute(2)};
  web::Middleware per_ip_ = LimitPerIp(limiter_, rules_, [this] { return now_; });
  web::Middleware per_caller_ = LimitPerCaller(limiter_, rules_, [this] { return now_; });
  int handled_ = 0;
};

TEST_F(RateLimitMiddleware, AnonymousCallersAreLimitedPerIp) {
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call("192.0.2.1").status, 200);
  auto refused = Call("192.0.2.1");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_NE(refused.body.find("\"status\":429"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.headers.Get("Retry-After").value_or(""), "20");  // one token every 20 s
  EXPECT_EQ(refused.headers.Get("RateLimit-Limit").value_or(""), "3");
  EXPECT_EQ(refused.headers.Get("RateLimit-Remaining").value_or(""), "0");
  EXPECT_EQ(handled_, 3) << "a refused request must not reach the handler";
  EXPECT_EQ(Call("192.0.2.2").status, 200) << "another IP has its own bucket";
  now_ += 20'000;
  EXPECT_EQ(Call("192.0.2.1").status, 200) << "the bucket refills";
}

TEST_F(RateLimitMiddleware, UsersAndApiKeysHaveTheirOwnBuckets) {
  rules_.per_ip = PerMinute(1000);
  per_ip_ = LimitPerIp(limiter_, rules_, [this] { return now_; });
  // Five for user 7, wherever the requests come from; then refused.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Call("198.51.100." + std::to_string(i + 1), User(7)).status, 200);
  auto refused = Call("198.51.100.9", User(7));
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.headers.Get("RateLimit-Limit").value_or(""), "5");
  // User 8 and user 7's API key are not affected; the key has its own, smaller bucket.
  EXPECT_EQ(Call("198.51.100.1", User(8)).status, 200);
  EXPECT_EQ(Call("198.51.100.1", User(7, 40)).status, 200);
  EXPECT_EQ(Call("198.51.100.1", User(7, 40)).status, 200);
  EXPECT_EQ(Call("198.51.100.1", User(7, 40)).status, 429);
  EXPECT_EQ(Call("198.51.100.1", User(7, 41)).status, 200);
}

TEST_F(RateLimitMiddleware, HeadersShowTheTightestBucket) {
  // Per IP 3, per user 5: after one call the IP has 2 left, the user 4; the client is told 2 (and limit 3).
  auto r = Call("203.0.113.5", User(9));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.Get("RateLimit-Remaining").value_or(""), "2");
  EXPECT_EQ(r.headers.Get("RateLimit-Limit").value_or(""), "3");
  EXPECT_FALSE(r.headers.Get("Retry-After").has_value());
}

TEST_F(RateLimitMiddleware, ARuleOfZeroIsNotApplied) {
  rules_ = GroupRules{"open", PerMinute(0), PerMinute(0), PerMinute(0)};
  per_ip_ = LimitPerIp(limiter_, rules_, [this] { return now_; });
  per_caller_ = LimitPerCaller(limiter_, rules_, [this] { return now_; });
  for (int i = 0; i < 50; ++i) ASSERT_EQ(Call("192.0.2.1", User(1)).status, 200);
  EXPECT_FALSE(Call("192.0.2.1").headers.Get("RateLimit-Limit").has_value());
  EXPECT_EQ(limiter_.Size(), 0u);
}

TEST_F(RateLimitMiddleware, GroupsDoNotShareBuckets) {
  auto other = LimitPerIp(limiter_, GroupRules{"public", PerMinute(3), {}, {}}, [this] { return now_; });
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call("192.0.2.1").status, 200);
  EXPECT_EQ(Call("192.0.2.1").status, 429);
  per_ip_ = other;
  EXPECT_EQ(Call("192.0.2.1").status, 200);
}

}  // namespace
}  // namespace poste::ratelimit
