#pragma once
// The durable job queue over the `jobs` table: enqueue, claim with a lease, complete or fail with retries.
// All calls block (SQL): from a coroutine, go through `co_await blocking(...)`.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"
#include "jobs/job.hpp"

namespace poste::jobs {

class JobQueue {
 public:
  using Clock = std::function<std::int64_t()>;  // epoch milliseconds
  // Tests inject the clock (to expire leases and reach retry times) and the jitter (a value in [-1, 1]).
  explicit JobQueue(db::Database& db, Clock now_ms = {}, std::function<double()> jitter = {});

  // Returns the job's id. With an idempotency key already used, nothing is inserted and the existing job's
  // id is returned. Throws std::invalid_argument for an empty kind, a payload that is not JSON, or
  // max_attempts < 1.
  std::int64_t Enqueue(std::string_view kind, std::string_view payload, const EnqueueOptions& options = {});
  // The same inside the caller's Database::Write transaction, so a job is queued exactly when the row it is
  // about is committed. Call NotifyEnqueued() after the commit to wake local workers at once.
  std::int64_t EnqueueIn(soci::session& tx, std::string_view kind, std::string_view payload,
                         const EnqueueOptions& options = {});

  // Takes the running job whose lease expired longest ago (its worker died), else the queued job due the
  // longest, and marks it running for worker_id until now + lease_ms, attempts + 1. kinds limits the kinds
  // taken (empty: any). A job whose lease expired on its last attempt goes dead instead of running again.
  std::optional<Job> Claim(const std::string& worker_id, std::int64_t lease_ms,
                           const std::vector<std::string>& kinds = {});

  // The next three act only while worker_id holds the job's lease (or held it, expired, and nobody claimed
  // the job since); they return false otherwise, changing nothing.
  bool Complete(std::int64_t id, const std::string& worker_id);
  // Retried at now + RetryDelayMs(attempts), or dead when permanent or after max_attempts attempts.
  bool Fail(std::int64_t id, const std::string& worker_id, const std::string& error, bool permanent = false);
  bool ExtendLease(std::int64_t id, const std::string& worker_id, std::int64_t lease_ms);

  std::optional<Job> Get(std::int64_t id);
  // Every state name -> its number of jobs (0 included), for the "jobs by state" gauge.
  std::map<std::string, std::int64_t> CountByState();

  std::int64_t NowMs() const { return now_ms_(); }
  // 2 s * 2^(attempts - 1), capped at 1 h, times (1 + 0.2 * jitter) for jitter in [-1, 1], so that jobs that
  // failed together (a provider outage) do not all retry in the same instant.
  static std::int64_t RetryDelayMs(int attempts, double jitter);

  // In-process wake-ups: listeners run after each enqueue committed through this queue (and on
  // NotifyEnqueued). Unsubscribe waits for a listener that is running.
  int Subscribe(std::function<void()> listener);
  void Unsubscribe(int token);
  void NotifyEnqueued();

 private:
  db::Database& db_;
  Clock now_ms_;
  std::function<double()> jitter_;
  std::mutex listeners_mutex_;
  std::map<int, std::function<void()>> listeners_;
  int next_token_ = 1;
};

}  // namespace poste::jobs
