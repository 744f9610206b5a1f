#include "jobs/job_queue.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <atomic>
#include <stdexcept>

#include "support/db_fixture.hpp"

namespace poste::jobs {
namespace {

constexpr std::int64_t kStart = 1'700'000'000'000;  // a fixed "now" in epoch ms
constexpr std::int64_t kLease = 30'000;

// The queue under a clock the test moves, and no jitter (so retry times are exact).
class JobQueueTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (HasFatalFailure()) return;
    queue_ = std::make_unique<JobQueue>(
        db(), [this] { return now_.load(); }, [] { return 0.0; });
  }
  void TearDown() override {
    queue_.reset();
    DbTest::TearDown();
  }
  JobQueue& queue() { return *queue_; }
  void Advance(std::int64_t ms) { now_ += ms; }
  std::int64_t Now() const { return now_.load(); }
  Job MustGet(std::int64_t id) {
    auto job = queue().Get(id);
    if (!job) throw std::runtime_error("job " + std::to_string(id) + " is missing");
    return *job;
  }

 private:
  std::atomic<std::int64_t> now_{kStart};
  std::unique_ptr<JobQueue> queue_;
};

TEST_P(JobQueueTest, EnqueueStoresAQueuedJob) {
  const auto id = queue().Enqueue("mail.send", R"({"to":"a@example.com"})", {std::nullopt, 3, "k1"});
  const Job job = MustGet(id);
  EXPECT_EQ(job.kind, "mail.send");
  EXPECT_EQ(job.payload, R"({"to":"a@example.com"})");
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.run_at_ms, kStart);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(job.max_attempts, 3);
  EXPECT_FALSE(job.lease_until_ms.has_value());
  EXPECT_EQ(job.locked_by, "");
  EXPECT_EQ(job.idempotency_key, "k1");
  EXPECT_EQ(job.created_at_ms, kStart);
  EXPECT_FALSE(queue().Get(id + 1000).has_value());
}

TEST_P(JobQueueTest, TheSameIdempotencyKeyIsANoOpReturningTheFirstJob) {
  const auto first = queue().Enqueue("webhook.deliver", "{}", {std::nullopt, 5, "event-42"});
  const auto again = queue().Enqueue("webhook.deliver", R"({"other":true})", {std::nullopt, 5, "event-42"});
  EXPECT_EQ(again, first);
  EXPECT_EQ(MustGet(first).payload, "{}");
  EXPECT_NE(queue().Enqueue("webhook.deliver", "{}", {std::nullopt, 5, "event-43"}), first);
  // Without a key every enqueue is a new job.
  EXPECT_NE(queue().Enqueue("webhook.deliver", "{}"), queue().Enqueue("webhook.deliver", "{}"));
  EXPECT_EQ(queue().CountByState()["queued"], 4);
}

TEST_P(JobQueueTest, EnqueueRefusesBadInput) {
  EXPECT_THROW(queue().Enqueue("", "{}"), std::invalid_argument);
  EXPECT_THROW(queue().Enqueue(std::string(101, 'k'), "{}"), std::invalid_argument);
  EXPECT_THROW(queue().Enqueue("k", "{not json"), std::invalid_argument);
  EXPECT_THROW(queue().Enqueue("k", ""), std::invalid_argument);
  EXPECT_THROW(queue().Enqueue("k", "{}", {std::nullopt, 0, std::nullopt}), std::invalid_argument);
  EXPECT_THROW(queue().Enqueue("k", "{}", {std::nullopt, 1, ""}), std::invalid_argument);
  EXPECT_EQ(queue().CountByState()["queued"], 0);
}

TEST_P(JobQueueTest, ClaimTakesTheOldestDueJobAndSetsTheLease) {
  const auto later = queue().Enqueue("k", "{}", {Now() + 1000, 5, std::nullopt});
  const auto due = queue().Enqueue("k", "{}");
  const auto overdue = queue().Enqueue("k", "{}", {Now() - 500, 5, std::nullopt});

  const auto first = queue().Claim("w1", kLease);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, overdue);
  EXPECT_EQ(first->state, JobState::kRunning);
  EXPECT_EQ(first->attempts, 1);
  EXPECT_EQ(first->lease_until_ms, Now() + kLease);
  EXPECT_EQ(first->locked_by, "w1");
  EXPECT_EQ(queue().Claim("w1", kLease)->id, due);
  EXPECT_FALSE(queue().Claim("w1", kLease).has_value()) << "a job was claimed before its run_at";
  Advance(1000);
  EXPECT_EQ(queue().Claim("w1", kLease)->id, later);
}

TEST_P(JobQueueTest, ClaimTakesOnlyTheKindsAsked) {
  const auto mail = queue().Enqueue("mail.send", "{}");
  const auto hook = queue().Enqueue("webhook.deliver", "{}");
  EXPECT_FALSE(queue().Claim("w", kLease, {"inbox.sync"}).has_value());
  EXPECT_EQ(queue().Claim("w", kLease, {"inbox.sync", "webhook.deliver"})->id, hook);
  EXPECT_EQ(queue().Claim("w", kLease, {"mail.send"})->id, mail);
}

TEST_P(JobQueueTest, AJobWhoseWorkerDiedRunsAgainAfterItsLease) {
  const auto id = queue().Enqueue("k", "{}");
  ASSERT_EQ(queue().Claim("dead-worker", kLease)->id, id);  // ...and that worker never reports back
  Advance(kLease - 1);
  EXPECT_FALSE(queue().Claim("w2", kLease).has_value()) << "claimed while the lease was still valid";
  Advance(1);
  const auto again = queue().Claim("w2", kLease);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->id, id);
  EXPECT_EQ(again->attempts, 2);
  EXPECT_EQ(again->locked_by, "w2");
  EXPECT_TRUE(queue().Complete(id, "w2"));
  EXPECT_EQ(MustGet(id).state, JobState::kDone);
}

TEST_P(JobQueueTest, AStaleWorkerCannotTouchAJobClaimedAgainByAnother) {
  const auto id = queue().Enqueue("k", "{}");
  queue().Claim("slow", kLease);
  Advance(kLease);
  queue().Claim("fresh", kLease);
  EXPECT_FALSE(queue().Complete(id, "slow"));
  EXPECT_FALSE(queue().Fail(id, "slow", "late failure"));
  EXPECT_FALSE(queue().Fail(id, "slow", "late failure", /*permanent=*/true));
  EXPECT_FALSE(queue().ExtendLease(id, "slow", kLease));
  Job job = MustGet(id);
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_EQ(job.locked_by, "fresh");
  EXPECT_EQ(job.lease_until_ms, Now() + kLease);
  EXPECT_EQ(job.last_error, "");
  EXPECT_TRUE(queue().Complete(id, "fresh"));
  EXPECT_FALSE(queue().Complete(id, "fresh")) << "completed twice";
}

TEST_P(JobQueueTest, AWorkerWhoseLeaseExpiredMayStillFinishIfNobodyClaimedTheJob) {
  const auto id = queue().Enqueue("k", "{}");
  queue().Claim("w", kLease);
  Advance(kLease * 2);
  EXPECT_TRUE(queue().Complete(id, "w"));
  EXPECT_EQ(MustGet(id).state, JobState::kDone);
}

TEST_P(JobQueueTest, FailuresRetryWithGrowingBackoffThenTheJobIsDead) {
  const auto id = queue().Enqueue("k", "{}", {std::nullopt, 4, std::nullopt});
  std::int64_t expected_delay = 2000;
  for (int attempt = 1; attempt <= 3; ++attempt) {
    ASSERT_EQ(queue().Claim("w", kLease)->attempts, attempt);
    EXPECT_TRUE(queue().Fail(id, "w", "smtp timeout " + std::to_string(attempt)));
    const Job job = MustGet(id);
    EXPECT_EQ(job.state, JobState::kQueued);
    EXPECT_EQ(job.run_at_ms, Now() + expected_delay);
    EXPECT_EQ(job.last_error, "smtp timeout " + std::to_string(attempt));
    EXPECT_FALSE(job.lease_until_ms.has_value());
    Advance(expected_delay - 1);
    EXPECT_FALSE(queue().Claim("w", kLease).has_value()) << "retried before its backoff";
    Advance(1);
    expected_delay *= 2;
  }
  ASSERT_EQ(queue().Claim("w", kLease)->attempts, 4);
  EXPECT_TRUE(queue().Fail(id, "w", "still failing"));
  const Job dead = MustGet(id);
  EXPECT_EQ(dead.state, JobState::kDead);
  EXPECT_EQ(dead.last_error, "still failing");
  Advance(24 * 3600 * 1000LL);
  EXPECT_FALSE(queue().Claim("w", kLease).has_value());
}

TEST_P(JobQueueTest, APermanentFailureIsDeadAtOnce) {
  const auto id = queue().Enqueue("k", "{}", {std::nullopt, 5, std::nullopt});
  queue().Claim("w", kLease);
  EXPECT_TRUE(queue().Fail(id, "w", "no such recipient", /*permanent=*/true));
  const Job job = MustGet(id);
  EXPECT_EQ(job.state, JobState::kDead);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(job.last_error, "no such recipient");
}

TEST_P(JobQueueTest, ALeaseThatExpiresOnTheLastAttemptKillsTheJob) {
  const auto id = queue().Enqueue("k", "{}", {std::nullopt, 1, std::nullopt});
  const auto next = queue().Enqueue("k", "{}", {Now() + 1, 5, std::nullopt});
  queue().Claim("w", kLease);
  Advance(kLease);
  const auto claimed = queue().Claim("w2", kLease);
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->id, next) << "the exhausted job ran again";
  const Job job = MustGet(id);
  EXPECT_EQ(job.state, JobState::kDead);
  EXPECT_NE(job.last_error.find("lease expired"), std::string::npos);
}

TEST_P(JobQueueTest, ExtendingTheLeaseKeepsOthersAway) {
  const auto id = queue().Enqueue("k", "{}");
  queue().Claim("w", 1000);
  Advance(800);
  EXPECT_TRUE(queue().ExtendLease(id, "w", 1000));
  Advance(800);
  EXPECT_FALSE(queue().Claim("other", 1000).has_value());
  EXPECT_EQ(MustGet(id).lease_until_ms, Now() + 200);
}

TEST_P(JobQueueTest, CountByStateListsEveryState) {
  const auto done = queue().Enqueue("k", "{}");
  const auto dead = queue().Enqueue("k", "{}");
  queue().Enqueue("k", "{}");
  queue().Enqueue("k", "{}", {Now() + 60'000, 5, std::nullopt});
  queue().Claim("w", kLease);
  queue().Claim("w", kLease);
  queue().Complete(done, "w");
  queue().Fail(dead, "w", "bad", true);
  queue().Claim("w", kLease);
  const auto counts = queue().CountByState();
  EXPECT_EQ(counts, (std::map<std::string, std::int64_t>{{"queued", 1}, {"running", 1}, {"done", 1}, {"dead", 1}}));
}

TEST_P(JobQueueTest, EnqueueInATransactionCommitsOrRollsBackWithIt) {
  EXPECT_THROW(db().Write([&](soci::session& tx) {
    queue().EnqueueIn(tx, "k", "{}");
    throw std::runtime_error("the surrounding write failed");
  }),
               std::runtime_error);
  EXPECT_EQ(queue().CountByState()["queued"], 0);
  const auto id = db().WriteValue([&](soci::session& tx) { return queue().EnqueueIn(tx, "k", "{}"); });
  EXPECT_EQ(MustGet(id).state, JobState::kQueued);
}

TEST_P(JobQueueTest, ListenersHearOfEnqueuesUntilUnsubscribed) {
  int heard = 0;
  const int token = queue().Subscribe([&] { ++heard; });
  queue().Enqueue("k", "{}");
  queue().Enqueue("k", "{}", {std::nullopt, 5, "same"});
  EXPECT_EQ(heard, 2);
  queue().Unsubscribe(token);
  queue().Enqueue("k", "{}");
  EXPECT_EQ(heard, 2);
}

POSTE_INSTANTIATE_DB_TEST(JobQueueTest);

TEST(RetryDelayTest, DoublesFromTwoSecondsUpToAnHourWithTwentyPercentJitter) {
  EXPECT_EQ(JobQueue::RetryDelayMs(1, 0), 2'000);
  EXPECT_EQ(JobQueue::RetryDelayMs(2, 0), 4'000);
  EXPECT_EQ(JobQueue::RetryDelayMs(5, 0), 32'000);
  EXPECT_EQ(JobQueue::RetryDelayMs(11, 0), 2'048'000);
  EXPECT_EQ(JobQueue::RetryDelayMs(12, 0), 3'600'000);
  EXPECT_EQ(JobQueue::RetryDelayMs(1000, 0), 3'600'000);
  EXPECT_EQ(JobQueue::RetryDelayMs(0, 0), 2'000);
  EXPECT_EQ(JobQueue::RetryDelayMs(1, 1), 2'400);
  EXPECT_EQ(JobQueue::RetryDelayMs(1, -1), 1'600);
  EXPECT_EQ(JobQueue::RetryDelayMs(1, 7), 2'400);  // out-of-range jitter is clamped
  EXPECT_EQ(JobQueue::RetryDelayMs(1000, 1), 4'320'000);
}

TEST(JobStateTest, NamesRoundTrip) {
  for (JobState state : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kDead}) {
    EXPECT_EQ(ParseJobState(JobStateName(state)), state);
  }
  EXPECT_FALSE(ParseJobState("paused").has_value());
}

}  // namespace
}  // namespace poste::jobs
