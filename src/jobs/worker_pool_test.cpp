#include "jobs/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "support/db_fixture.hpp"

namespace poste::jobs {
namespace {

using namespace std::chrono_literals;

class WorkerPoolTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (HasFatalFailure()) return;
    queue_ = std::make_unique<JobQueue>(db());
  }
  void TearDown() override {
    queue_.reset();
    DbTest::TearDown();
  }
  JobQueue& queue() { return *queue_; }

  // Waits (bounded) until no job is queued or running; false on timeout.
  bool WaitUntilSettled(std::chrono::milliseconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto counts = queue().CountByState();
      if (counts["queued"] == 0 && counts["running"] == 0) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }
  Job MustGet(std::int64_t id) { return queue().Get(id).value_or(Job{}); }

 private:
  std::unique_ptr<JobQueue> queue_;
};

TEST_P(WorkerPoolTest, RunsHandlersByKindAndCompletesTheirJobs) {
  std::mutex mutex;
  std::map<std::string, int> seen;  // payload -> runs
  WorkerPool pool(queue(), {"test", 60'000, 20ms});
  pool.Register("echo", [&](const Job& job) {
    std::lock_guard lock(mutex);
    ++seen[job.payload];
  });
  for (int i = 0; i < 5; ++i) queue().Enqueue("echo", "{\"n\":" + std::to_string(i) + "}");
  pool.Start(2);
  ASSERT_TRUE(WaitUntilSettled());
  pool.Stop();
  EXPECT_EQ(seen.size(), 5u);
  for (const auto& [payload, runs] : seen) EXPECT_EQ(runs, 1) << payload;
  EXPECT_EQ(queue().CountByState()["done"], 5);
}

TEST_P(WorkerPoolTest, AnInProcessEnqueueWakesIdleWorkersAtOnce) {
  std::atomic<bool> ran{false};
  WorkerPool pool(queue(), {"test", 60'000, 60s});  // polling alone would take a minute
  pool.Register("ping", [&](const Job&) { ran = true; });
  pool.Start(1);
  std::this_thread::sleep_for(50ms);  // let the worker find nothing and go to sleep
  queue().Enqueue("ping", "{}");
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!ran && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(ran.load());
}

TEST_P(WorkerPoolTest, HandlerErrorsRetryAndPermanentErrorsKill) {
  WorkerPool pool(queue(), {"test", 60'000, 20ms});
  pool.Register("flaky", [](const Job&) { throw std::runtime_error("connection reset"); });
  pool.Register("doomed", [](const Job&) { throw PermanentError("mailbox does not exist"); });
  const auto flaky = queue().Enqueue("flaky", "{}");
  const auto doomed = queue().Enqueue("doomed", "{}");
  const auto started = queue().NowMs();
  pool.Start(2);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline &&
         (MustGet(flaky).attempts == 0 || MustGet(flaky).state == JobState::kRunning ||
          MustGet(doomed).state != JobState::kDead)) {
    std::this_thread::sleep_for(10ms);
  }
  pool.Stop();
  const Job retried = MustGet(flaky);
  EXPECT_EQ(retried.state, JobState::kQueued);
  EXPECT_EQ(retried.attempts, 1);
  EXPECT_EQ(retried.last_error, "connection reset");
  EXPECT_GE(retried.run_at_ms, started + 1600);  // the first backoff: 2 s minus at most 20 % jitter
  const Job dead = MustGet(doomed);
  EXPECT_EQ(dead.state, JobState::kDead);
  EXPECT_EQ(dead.attempts, 1);
  EXPECT_EQ(dead.last_error, "mailbox does not exist");
}

TEST_P(WorkerPoolTest, WorkersClaimOnlyRegisteredKinds) {
  WorkerPool pool(queue(), {"test", 60'000, 20ms});
  pool.Register("mine", [](const Job&) {});
  const auto theirs = queue().Enqueue("theirs", "{}");
  const auto mine = queue().Enqueue("mine", "{}");
  pool.Start(1);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (MustGet(mine).state != JobState::kDone && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  pool.Stop();
  EXPECT_EQ(MustGet(mine).state, JobState::kDone);
  EXPECT_EQ(MustGet(theirs).state, JobState::kQueued);
  EXPECT_EQ(MustGet(theirs).attempts, 0);
}

TEST_P(WorkerPoolTest, StopLetsARunningJobFinish) {
  std::atomic<bool> finished{false};
  WorkerPool pool(queue(), {"test", 60'000, 20ms});
  pool.Register("slow", [&](const Job&) {
    std::this_thread::sleep_for(300ms);
    finished = true;
  });
  const auto id = queue().Enqueue("slow", "{}");
  pool.Start(1);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (pool.Busy() == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
  ASSERT_EQ(pool.Busy(), 1u);
  pool.Stop();
  EXPECT_TRUE(finished.load());
  EXPECT_EQ(MustGet(id).state, JobState::kDone);
}

TEST_P(WorkerPoolTest, TheHeartbeatKeepsALongJobFromBeingClaimedTwice) {
  std::atomic<int> runs{0};
  const auto handler = [&](const Job&) {
    ++runs;
    std::this_thread::sleep_for(1200ms);  // several leases long
  };
  // Lease 500 ms renewed every 50 ms: the margin absorbs a loaded machine's scheduling delays.
  WorkerPool first(queue(), {"first", 500, 10ms, 50ms});
  WorkerPool second(queue(), {"second", 500, 10ms, 50ms});
  first.Register("long", handler);
  second.Register("long", handler);
  const auto id = queue().Enqueue("long", "{}");
  first.Start(1);
  second.Start(1);
  ASSERT_TRUE(WaitUntilSettled());
  first.Stop();
  second.Stop();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(MustGet(id).attempts, 1);
  EXPECT_EQ(MustGet(id).state, JobState::kDone);
}

TEST_P(WorkerPoolTest, ManyWorkersInTwoPoolsRunEveryJobExactlyOnceAndNeverConcurrently) {
  constexpr int kJobs = 150;
  std::mutex mutex;
  std::map<std::int64_t, int> runs;
  std::map<std::int64_t, int> running;
  std::atomic<int> overlaps{0};
  const auto handler = [&](const Job& job) {
    {
      std::lock_guard lock(mutex);
      ++runs[job.id];
      if (++running[job.id] > 1) ++overlaps;
    }
    thread_local std::mt19937 random{std::random_device{}()};
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 1500));
    std::lock_guard lock(mutex);
    --running[job.id];
  };
  // Two handles on one database stand in for two instances (SQLite: two writer connections on one file).
  auto other = db::Database::Open({db_url(), 3});
  JobQueue other_queue(*other);
  WorkerPool a(queue(), {"a", 60'000, 10ms});
  WorkerPool b(other_queue, {"b", 60'000, 10ms});
  a.Register("count", handler);
  b.Register("count", handler);
  for (int i = 0; i < kJobs; ++i) queue().Enqueue("count", "{}");
  a.Start(3);
  b.Start(3);
  ASSERT_TRUE(WaitUntilSettled(40s));
  a.Stop();
  b.Stop();
  EXPECT_EQ(overlaps.load(), 0);
  EXPECT_EQ(runs.size(), static_cast<std::size_t>(kJobs));
  for (const auto& [id, n] : runs) EXPECT_EQ(n, 1) << "job " << id;
  EXPECT_EQ(queue().CountByState()["done"], kJobs);
}

TEST_P(WorkerPoolTest, MisuseIsRefused) {
  WorkerPool pool(queue(), {"test", 60'000, 20ms});
  EXPECT_THROW(pool.Start(1), std::logic_error);  // nothing registered
  EXPECT_THROW(pool.Register("k", nullptr), std::invalid_argument);
  pool.Register("k", [](const Job&) {});
  pool.Start(1);
  EXPECT_THROW(pool.Register("late", [](const Job&) {}), std::logic_error);
  EXPECT_THROW(pool.Start(1), std::logic_error);
  pool.Stop();
  pool.Stop();  // idempotent
}

POSTE_INSTANTIATE_DB_TEST(WorkerPoolTest);

}  // namespace
}  // namespace poste::jobs
