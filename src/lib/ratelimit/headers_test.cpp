#include "lib/ratelimit/headers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "lib/ratelimit/memory_limiter.hpp"

namespace poste::ratelimit {
namespace {

using testing::ElementsAre;
using testing::Pair;

TEST(RateLimitHeaders, AllowedDecisionHasNoRetryAfter) {
  Decision d{.allowed = true, .remaining = 7, .retry_after_ms = 0, .reset_ms = 1500};
  EXPECT_THAT(RateLimitHeaders({10, 2}, d), ElementsAre(Pair("RateLimit-Limit", "10"), Pair("RateLimit-Remaining", "7"),
                                                        Pair("RateLimit-Reset", "2")));
}

TEST(RateLimitHeaders, RefusalAddsRetryAfterRoundedUp) {
  Decision d{.allowed = false, .remaining = 0.4, .retry_after_ms = 1001, .reset_ms = 30'000};
  EXPECT_THAT(RateLimitHeaders({60, 2}, d), ElementsAre(Pair("RateLimit-Limit", "60"), Pair("RateLimit-Remaining", "0"),
                                                        Pair("RateLimit-Reset", "30"), Pair("Retry-After", "2")));
}

TEST(RateLimitHeaders, RetryAfterIsAtLeastOneSecond) {
  Decision d{.allowed = false, .remaining = 0, .retry_after_ms = 1, .reset_ms = 1};
  auto headers = RateLimitHeaders({1, 1000}, d);
  ASSERT_EQ(headers.size(), 4u);
  EXPECT_EQ(headers[2].second, "1");
  EXPECT_EQ(headers[3], std::make_pair(std::string("Retry-After"), std::string("1")));
  d.retry_after_ms = 0;  // a refusal with no wait is still not an invitation to retry at once
  EXPECT_EQ(RateLimitHeaders({1, 1000}, d)[3].second, "1");
}

TEST(RateLimitHeaders, FractionsShowTheirFloorAndAFullBucketResetsInZero) {
  Decision d{.allowed = true, .remaining = 2.999, .retry_after_ms = 0, .reset_ms = 0};
  auto headers = RateLimitHeaders({3.5, 1}, d);
  EXPECT_EQ(headers[0].second, "3");
  EXPECT_EQ(headers[1].second, "2");
  EXPECT_EQ(headers[2].second, "0");
  d.remaining = 0.99999999999;  // doubles' rounding: the limiter would let one token through
  EXPECT_EQ(RateLimitHeaders({3, 1}, d)[1].second, "1");
}

TEST(RateLimitHeaders, HostileDecisionsDoNotOverflow) {
  Decision d{.allowed = false,
             .remaining = std::numeric_limits<double>::quiet_NaN(),
             .retry_after_ms = std::numeric_limits<std::int64_t>::max(),
             .reset_ms = -5};
  auto headers = RateLimitHeaders({std::numeric_limits<double>::infinity(), 1}, d);
  EXPECT_EQ(headers[0].second, "9000000000000000");
  EXPECT_EQ(headers[1].second, "0");
  EXPECT_EQ(headers[2].second, "0");
  EXPECT_EQ(headers[3].second, "9223372036854776");
}

TEST(RateLimitHeaders, FromARealDecision) {
  MemoryLimiter limiter;
  Rule rule{2, 0.5};  // a token every 2 s
  limiter.Take("k", rule, 0);
  limiter.Take("k", rule, 0);
  auto d = limiter.Take("k", rule, 100);
  EXPECT_THAT(RateLimitHeaders(rule, d), ElementsAre(Pair("RateLimit-Limit", "2"), Pair("RateLimit-Remaining", "0"),
                                                     Pair("RateLimit-Reset", "4"), Pair("Retry-After", "2")));
}

}  // namespace
}  // namespace poste::ratelimit
