#include "lib/ratelimit/memory_backoff.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace poste::ratelimit {
namespace {

constexpr std::int64_t kMinute = 60'000;

TEST(LockoutAfter, DoublesFromTheThresholdUpToTheCap) {
  BackoffPolicy p;  // 5 free failures, 1 min doubling to 1 h
  EXPECT_EQ(LockoutAfter(p, 0), 0);
  EXPECT_EQ(LockoutAfter(p, 4), 0);
  EXPECT_EQ(LockoutAfter(p, 5), kMinute);
  EXPECT_EQ(LockoutAfter(p, 6), 2 * kMinute);
  EXPECT_EQ(LockoutAfter(p, 7), 4 * kMinute);
  EXPECT_EQ(LockoutAfter(p, 10), 32 * kMinute);
  EXPECT_EQ(LockoutAfter(p, 11), 60 * kMinute);
  EXPECT_EQ(LockoutAfter(p, 1'000'000), 60 * kMinute);
  EXPECT_EQ(LockoutAfter(p, std::numeric_limits<int>::max()), 60 * kMinute);
}

TEST(LockoutAfter, ExtremePoliciesStayInRange) {
  BackoffPolicy huge{.free_failures = 1,
                     .first_lockout_ms = 1,
                     .max_lockout_ms = std::numeric_limits<std::int64_t>::max(),
                     .forget_after_ms = 1};
  EXPECT_EQ(LockoutAfter(huge, 1), 1);
  EXPECT_EQ(LockoutAfter(huge, 11), 1024);
  EXPECT_GT(LockoutAfter(huge, 100), 0);  // capped before the doubling overflows
  BackoffPolicy off{.free_failures = 3, .first_lockout_ms = 0, .max_lockout_ms = 0, .forget_after_ms = 1};
  EXPECT_EQ(LockoutAfter(off, 50), 0);
  BackoffPolicy inverted{.free_failures = 1, .first_lockout_ms = 5000, .max_lockout_ms = 10, .forget_after_ms = 1};
  EXPECT_EQ(LockoutAfter(inverted, 3), 5000);
}

TEST(MemoryBackoff, LocksAfterTheFreeFailuresAndGrows) {
  MemoryBackoff tracker;
  std::int64_t now = 1'000'000;
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(tracker.RecordFailure("acct:1", now), 0) << i;
    EXPECT_EQ(tracker.LockedFor("acct:1", now), 0);
    now += 1000;
  }
  EXPECT_EQ(tracker.RecordFailure("acct:1", now), kMinute);
  EXPECT_EQ(tracker.LockedFor("acct:1", now), kMinute);
  EXPECT_EQ(tracker.LockedFor("acct:1", now + 15'000), 45'000);
  EXPECT_EQ(tracker.LockedFor("acct:1", now + kMinute), 0);
  // The lockout ends, the attacker tries again at once: twice as long, then four times.
  now += kMinute;
  EXPECT_EQ(tracker.RecordFailure("acct:1", now), 2 * kMinute);
  now += 2 * kMinute;
  EXPECT_EQ(tracker.RecordFailure("acct:1", now), 4 * kMinute);
  EXPECT_EQ(tracker.LockedFor("acct:2", now), 0);  // other keys are untouched
}

TEST(MemoryBackoff, FailuresWhileLockedAreNotCounted) {
  MemoryBackoff tracker;
  for (int i = 0; i < 5; ++i) tracker.RecordFailure("k", 0);
  ASSERT_EQ(tracker.LockedFor("k", 0), kMinute);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(tracker.RecordFailure("k", 30'000), 30'000);
  EXPECT_EQ(tracker.LockedFor("k", 30'000), 30'000);
  EXPECT_EQ(tracker.RecordFailure("k", kMinute), 2 * kMinute);  // the sixth counted failure
}

TEST(MemoryBackoff, ReachesTheCapAndStaysThere) {
  MemoryBackoff tracker;
  std::int64_t now = 0, lockout = 0;
  for (int i = 0; i < 30; ++i) {
    lockout = tracker.RecordFailure("k", now);
    now += lockout;
  }
  EXPECT_EQ(lockout, 60 * kMinute);
}

TEST(MemoryBackoff, SuccessResetsTheStreak) {
  MemoryBackoff tracker;
  for (int i = 0; i < 4; ++i) tracker.RecordFailure("k", 0);
  tracker.RecordSuccess("k");
  for (int i = 0; i < 4; ++i) EXPECT_EQ(tracker.RecordFailure("k", 1), 0);
  EXPECT_EQ(tracker.RecordFailure("k", 1), kMinute);
  tracker.RecordSuccess("k");
  EXPECT_EQ(tracker.LockedFor("k", 2), 0);
  EXPECT_EQ(tracker.Size(), 0u);
  tracker.RecordSuccess("never-seen");  // harmless
}

TEST(MemoryBackoff, AQuietStreakIsForgottenButWaitingOutALockoutIsNotQuiet) {
  MemoryBackoff tracker;  // the default policy forgets after 15 min
  for (int i = 0; i < 4; ++i) tracker.RecordFailure("quiet", 0);
  // 15 minutes after the last failure, the four failures are gone.
  EXPECT_EQ(tracker.RecordFailure("quiet", 15 * kMinute), 0);
  for (int i = 0; i < 3; ++i) tracker.RecordFailure("quiet", 15 * kMinute);
  EXPECT_EQ(tracker.RecordFailure("quiet", 15 * kMinute), kMinute);

  // A 1-minute lockout ending at 1 min: the streak lasts until 16 min, not 15.
  for (int i = 0; i < 5; ++i) tracker.RecordFailure("waiting", 0);
  EXPECT_EQ(tracker.RecordFailure("waiting", 16 * kMinute - 1), 2 * kMinute);
  for (int i = 0; i < 5; ++i) tracker.RecordFailure("late", 0);
  EXPECT_EQ(tracker.RecordFailure("late", 16 * kMinute), 0);  // forgotten: a fresh first failure
}

TEST(MemoryBackoff, StaysBoundedUnderAFloodOfKeys) {
  MemoryBackoffOptions options;
  options.max_keys = 2000;
  MemoryBackoff tracker(options);
  for (int i = 0; i < 30'000; ++i) {
    tracker.RecordFailure("ip:10." + std::to_string(i), 0);
    ASSERT_LE(tracker.Size(), 2000u);
  }
  // Forgotten streaks are swept.
  tracker.Sweep(15 * kMinute);
  EXPECT_EQ(tracker.Size(), 0u);
}

TEST(MemoryBackoff, SweepKeepsLockedKeys) {
  MemoryBackoff tracker;
  std::int64_t now = 0, lockout = 0;
  for (int i = 0; i < 15; ++i) {  // an attacker who retries as each lockout ends reaches the 1-hour cap
    if (i > 0) now += lockout;
    lockout = tracker.RecordFailure("locked", now);
  }
  ASSERT_EQ(lockout, 60 * kMinute);
  tracker.RecordFailure("idle", now);
  tracker.Sweep(now + 20 * kMinute);
  EXPECT_EQ(tracker.Size(), 1u);
  EXPECT_EQ(tracker.LockedFor("locked", now + 20 * kMinute), 40 * kMinute);
}

TEST(MemoryBackoff, ConcurrentFailuresAreAllCounted) {
  // Four threads fail at once on one key: exactly five failures are counted before the lock, the rest
  // bounce off it.
  MemoryBackoff tracker;
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> unlocked{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (tracker.RecordFailure("k", 0) == 0) unlocked.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(unlocked.load(), 4);
  EXPECT_EQ(tracker.LockedFor("k", 0), kMinute);
}

TEST(MemoryBackoff, WorksThroughTheInterface) {
  MemoryBackoffOptions options;
  options.policy = {.free_failures = 1, .first_lockout_ms = 10, .max_lockout_ms = 100, .forget_after_ms = 1000};
  std::unique_ptr<FailureTracker> tracker = std::make_unique<MemoryBackoff>(options);
  EXPECT_EQ(tracker->RecordFailure("k", 0), 10);
  EXPECT_EQ(tracker->LockedFor("k", 5), 5);
  tracker->RecordSuccess("k");
  EXPECT_EQ(tracker->LockedFor("k", 5), 0);
}

}  // namespace
}  // namespace poste::ratelimit
