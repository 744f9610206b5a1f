#include "lib/ratelimit/memory_limiter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace poste::ratelimit {
namespace {

constexpr Rule kTenPerFive{10, 2};  // a burst of 10, then 2 a second

TEST(MemoryLimiter, StartsFullAndCountsDown) {
  MemoryLimiter limiter;
  for (int i = 9; i >= 0; --i) {
    auto d = limiter.Take("k", kTenPerFive, 1000);
    ASSERT_TRUE(d.allowed);
    EXPECT_EQ(d.remaining, i);
    EXPECT_EQ(d.retry_after_ms, 0);
    EXPECT_EQ(d.reset_ms, (10 - i) * 500);  // each missing token takes 500 ms to come back
  }
}

TEST(MemoryLimiter, BurstThenRefusalThenRecovery) {
  MemoryLimiter limiter;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.Take("k", kTenPerFive, 0).allowed);
  auto refused = limiter.Take("k", kTenPerFive, 0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after_ms, 500);
  EXPECT_EQ(refused.reset_ms, 5000);
  // A refusal takes nothing: the next token still comes at 500 ms.
  EXPECT_FALSE(limiter.Take("k", kTenPerFive, 499).allowed);
  auto d = limiter.Take("k", kTenPerFive, 500);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_FALSE(limiter.Take("k", kTenPerFive, 500).allowed);
  // Two seconds later, four more tokens.
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(limiter.Take("k", kTenPerFive, 2500).allowed) << i;
  EXPECT_FALSE(limiter.Take("k", kTenPerFive, 2500).allowed);
  // A long rest refills only up to the capacity.
  int allowed = 0;
  while (limiter.Take("k", kTenPerFive, 1'000'000).allowed) ++allowed;
  EXPECT_EQ(allowed, 10);
}

TEST(MemoryLimiter, KeysAreIndependent) {
  MemoryLimiter limiter;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.Take("a", kTenPerFive, 0).allowed);
  EXPECT_FALSE(limiter.Take("a", kTenPerFive, 0).allowed);
  EXPECT_TRUE(limiter.Take("b", kTenPerFive, 0).allowed);
  EXPECT_TRUE(limiter.Take("A", kTenPerFive, 0).allowed);  // keys are bytes: callers normalise
}

TEST(MemoryLimiter, RefillIsLinearInElapsedTime) {
  MemoryLimiter limiter;
  Rule rule{100, 10};  // 1 token per 100 ms
  auto d = limiter.Take("k", rule, 0, 100);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0);
  EXPECT_EQ(d.reset_ms, 10'000);
  d = limiter.Take("k", rule, 2'345, 0);  // a cost of 0 only looks
  EXPECT_TRUE(d.allowed);
  EXPECT_DOUBLE_EQ(d.remaining, 23.45);
  EXPECT_EQ(d.reset_ms, 7'655);
}

TEST(MemoryLimiter, RetryAfterIsExactlyWhenTheRequestPasses) {
  // For awkward rates and costs, a refused request must pass at now + retry_after and not 1 ms earlier.
  const Rule rules[] = {{10, 2}, {3, 1.0 / 3}, {7, 10.0 / 3}, {1, 0.001}, {1000, 999.9}, {5, 1e6}};
  const double costs[] = {1, 2.5, 0.7};
  int key = 0;
  for (const Rule& rule : rules) {
    for (double cost : costs) {
      if (cost > rule.capacity) continue;
      for (std::int64_t drain_at : {0, 13, 977}) {
        MemoryLimiter limiter;
        std::string k = std::to_string(key++);
        while (limiter.Take(k, rule, drain_at, cost).allowed) {
        }
        auto refused = limiter.Take(k, rule, drain_at, cost);
        ASSERT_FALSE(refused.allowed);
        ASSERT_GE(refused.retry_after_ms, 1);
        std::int64_t at = drain_at + refused.retry_after_ms;
        if (refused.retry_after_ms > 1) {
          EXPECT_FALSE(limiter.Take(k, rule, at - 1, cost).allowed)
              << "rate " << rule.refill_per_second << " cost " << cost << " retry " << refused.retry_after_ms;
        }
        EXPECT_TRUE(limiter.Take(k, rule, at, cost).allowed)
            << "rate " << rule.refill_per_second << " cost " << cost << " retry " << refused.retry_after_ms;
      }
    }
  }
}

TEST(MemoryLimiter, ResetIsWhenTheBucketIsFullAgain) {
  MemoryLimiter limiter;
  Rule rule{3, 1.0 / 3};  // awkward: a token every 3 s, in doubles
  limiter.Take("k", rule, 0, 3);
  auto d = limiter.Take("k", rule, 1, 0);
  EXPECT_EQ(d.reset_ms, 8999);
  auto full = limiter.Take("k", rule, 9000, 3);
  EXPECT_TRUE(full.allowed);
}

TEST(MemoryLimiter, ClockGoingBackwardsRefillsNothing) {
  MemoryLimiter limiter;
  for (int i = 0; i < 10; ++i) limiter.Take("k", kTenPerFive, 10'000);
  EXPECT_FALSE(limiter.Take("k", kTenPerFive, 5'000).allowed);
  EXPECT_FALSE(limiter.Take("k", kTenPerFive, 10'499).allowed);
  EXPECT_TRUE(limiter.Take("k", kTenPerFive, 10'500).allowed);
}

TEST(MemoryLimiter, ARuleThatShrinksCapsTheBucket) {
  MemoryLimiter limiter;
  limiter.Take("k", {100, 1}, 0);
  auto d = limiter.Take("k", {5, 1}, 0);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 4);
}

TEST(MemoryLimiter, RejectsNonsenseRulesAndCosts) {
  MemoryLimiter limiter;
  EXPECT_THROW(limiter.Take("k", {0, 1}, 0), std::invalid_argument);
  EXPECT_THROW(limiter.Take("k", {-1, 1}, 0), std::invalid_argument);
  EXPECT_THROW(limiter.Take("k", {10, 0}, 0), std::invalid_argument);
  EXPECT_THROW(limiter.Take("k", {10, -2}, 0), std::invalid_argument);
  EXPECT_THROW(limiter.Take("k", {std::numeric_limits<double>::infinity(), 1}, 0), std::invalid_argument);
  EXPECT_THROW(limiter.Take("k", {10, std::numeric_limits<double>::quiet_NaN()}, 0), std::invalid_argument);
  EXPECT_THROW(limiter.Take("k", kTenPerFive, 0, -1), std::invalid_argument);
  EXPECT_THROW(limiter.Take("k", kTenPerFive, 0, 11), std::invalid_argument);
  EXPECT_THROW(limiter.Take("k", kTenPerFive, 0, std::numeric_limits<double>::quiet_NaN()), std::invalid_argument);
  EXPECT_EQ(limiter.Size(), 0u);  // a rejected call leaves no state behind
  EXPECT_TRUE(limiter.Take("k", kTenPerFive, 0, 10).allowed);
}

TEST(MemoryLimiter, TinyRatesGiveBoundedWaits) {
  MemoryLimiter limiter;
  Rule rule{1, 1e-300};
  ASSERT_TRUE(limiter.Take("k", rule, 0).allowed);
  auto d = limiter.Take("k", rule, 0);
  EXPECT_FALSE(d.allowed);
  EXPECT_GT(d.retry_after_ms, 0);  // clamped, not overflowed
  EXPECT_GT(d.reset_ms, 0);
}

TEST(MemoryLimiter, WorksThroughTheInterface) {
  std::unique_ptr<Limiter> limiter = std::make_unique<MemoryLimiter>();
  EXPECT_TRUE(limiter->Take("k", {1, 1}, 0).allowed);
  EXPECT_FALSE(limiter->Take("k", {1, 1}, 0).allowed);
}

TEST(MemoryLimiter, ConcurrentTakesNeverOverAdmit) {
  // N threads x M takes on one key of capacity C, with a frozen clock: exactly C pass.
  constexpr int kThreads = 8, kTakes = 500;
  constexpr Rule kRule{1000, 1};
  MemoryLimiter limiter;
  std::atomic<int> allowed{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < kTakes; ++i) {
        if (limiter.Take("shared", kRule, 42).allowed) allowed.fetch_add(1);
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1000);
}

TEST(MemoryLimiter, ConcurrentTakesOnManyKeysCountEachKeyExactly) {
  constexpr int kThreads = 4, kKeys = 64, kRounds = 20;
  constexpr Rule kRule{10, 1};
  MemoryLimiter limiter;
  std::vector<std::atomic<int>> allowed(kKeys);
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        for (int k = 0; k < kKeys; ++k) {
          if (limiter.Take("key" + std::to_string(k), kRule, 0).allowed) allowed[k].fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int k = 0; k < kKeys; ++k) EXPECT_EQ(allowed[k].load(), 10) << k;
}

TEST(MemoryLimiter, AFloodOfRandomKeysStaysBounded) {
  MemoryLimiter limiter({.max_keys = 1000, .sweep_interval_ms = 10'000});
  for (int i = 0; i < 50'000; ++i) {
    limiter.Take("attacker:" + std::to_string(i * 7919), kTenPerFive, 0);
    ASSERT_LE(limiter.Size(), 1000u);
  }
  EXPECT_GE(limiter.Size(), 900u);  // the cap is per shard: close to, never above, max_keys
}

TEST(MemoryLimiter, HugeKeysAreStoredAsDigests) {
  MemoryLimiter limiter;
  std::string big(10'000, 'x');
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.Take(big, kTenPerFive, 0).allowed);
  EXPECT_FALSE(limiter.Take(big, kTenPerFive, 0).allowed);  // the same digest, the same bucket
  std::string other = big;
  other.back() = 'y';
  EXPECT_TRUE(limiter.Take(other, kTenPerFive, 0).allowed);
  EXPECT_EQ(limiter.Size(), 2u);
}

TEST(MemoryLimiter, BucketsFullAgainAreSwept) {
  MemoryLimiter limiter({.max_keys = 100'000, .sweep_interval_ms = 10'000});
  for (int i = 0; i < 1000; ++i) limiter.Take("old" + std::to_string(i), kTenPerFive, 0);
  EXPECT_EQ(limiter.Size(), 1000u);
  // Each old bucket is full again at 500 ms. An explicit sweep before that drops nothing...
  limiter.Sweep(499);
  EXPECT_EQ(limiter.Size(), 1000u);
  // ...and after the sweep interval, ordinary traffic sweeps each shard it touches.
  for (int i = 0; i < 1000; ++i) limiter.Take("new" + std::to_string(i), kTenPerFive, 20'000);
  EXPECT_EQ(limiter.Size(), 1000u);
  limiter.Sweep(20'500);
  EXPECT_EQ(limiter.Size(), 0u);
}

TEST(MemoryLimiter, AnEvictedOrSweptKeyStartsFull) {
  MemoryLimiter limiter;
  Rule rule{2, 1};
  limiter.Take("k", rule, 0, 2);
  limiter.Sweep(1'999);  // not yet full: kept
  EXPECT_FALSE(limiter.Take("k", rule, 1'000, 2).allowed);
  limiter.Sweep(2'000);  // full at 2 s: dropped, and a new bucket is the same thing
  EXPECT_EQ(limiter.Size(), 0u);
  EXPECT_TRUE(limiter.Take("k", rule, 2'000, 2).allowed);
}

}  // namespace
}  // namespace poste::ratelimit
