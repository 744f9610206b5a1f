#include "jobs/job_queue.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <random>
#include <stdexcept>

#include "jobs/job_store.hpp"

namespace poste::jobs {
namespace {

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double RandomJitter() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(-1.0, 1.0)(engine);
}

store::NewJob Validate(std::string_view kind, std::string_view payload, const EnqueueOptions& options,
                       std::int64_t now) {
  if (kind.empty() || kind.size() > 100) throw std::invalid_argument("job kind must be 1..100 characters");
  if (!nlohmann::json::accept(payload)) {
    throw std::invalid_argument("payload of job kind '" + std::string(kind) + "' is not valid JSON");
  }
  if (options.max_attempts < 1) throw std::invalid_argument("max_attempts must be at least 1");
  if (options.idempotency_key && options.idempotency_key->empty()) {
    throw std::invalid_argument("an idempotency key must not be empty (leave it unset instead)");
  }
  return {std::string(kind),    std::string(payload),    options.run_at_ms.value_or(now),
          options.max_attempts, options.idempotency_key, now};
}

std::int64_t InsertOrFind(soci::session& tx, const store::NewJob& job) {
  if (auto id = store::Insert(tx, job)) return *id;
  if (auto existing = store::FindIdByKey(tx, *job.idempotency_key)) return *existing;
  // Only reachable if the conflicting job was deleted between the two statements.
  throw std::runtime_error("job with idempotency key '" + *job.idempotency_key + "' vanished while enqueueing");
}

}  // namespace

JobQueue::JobQueue(db::Database& db, Clock now_ms, std::function<double()> jitter)
    : db_(db),
      now_ms_(now_ms ? std::move(now_ms) : Clock(SystemNowMs)),
      jitter_(jitter ? std::move(jitter) : std::function<double()>(RandomJitter)) {}

std::int64_t JobQueue::Enqueue(std::string_view kind, std::string_view payload, const EnqueueOptions& options) {
  const store::NewJob job = Validate(kind, payload, options, now_ms_());
  const std::int64_t id = db_.WriteValue([&](soci::session& tx) { return InsertOrFind(tx, job); });
  NotifyEnqueued();
  return id;
}

std::int64_t JobQueue::EnqueueIn(soci::session& tx, std::string_view kind, std::string_view payload,
                                 const EnqueueOptions& options) {
  return InsertOrFind(tx, Validate(kind, payload, options, now_ms_()));
}

std::optional<Job> JobQueue::Claim(const std::string& worker_id, std::int64_t lease_ms,
                                   const std::vector<std::string>& kinds) {
  const db::Dialect dialect = db_.dialect();
  return db_.WriteValue([&](soci::session& tx) -> std::optional<Job> {
    const std::int64_t now = now_ms_();
    // Bounded: each pass buries one exhausted job; the rest wait for the next claim.
    for (int pass = 0; pass < 16; ++pass) {
      std::optional<store::Candidate> candidate = store::PickExpired(tx, dialect, now, kinds);
      if (candidate && candidate->attempts >= candidate->max_attempts) {
        spdlog::error("job {} is dead: its lease expired during its last attempt ({} of {})", candidate->id,
                      candidate->attempts, candidate->max_attempts);
        store::BuryExpired(tx, candidate->id, "the lease expired during the last attempt (the worker stopped?)", now);
        continue;
      }
      if (candidate) {
        spdlog::warn("job {}: its lease expired, so its worker is presumed dead; claiming it again", candidate->id);
      } else {
        candidate = store::PickDue(tx, dialect, now, kinds);
      }
      if (!candidate) return std::nullopt;
      store::MarkRunning(tx, candidate->id, worker_id, now + lease_ms, now);
      return store::Get(tx, candidate->id);
    }
    return std::nullopt;
  });
}

bool JobQueue::Complete(std::int64_t id, const std::string& worker_id) {
  return db_.WriteValue([&](soci::session& tx) { return store::MarkDone(tx, id, worker_id, now_ms_()); });
}

bool JobQueue::Fail(std::int64_t id, const std::string& worker_id, const std::string& error, bool permanent) {
  return db_.WriteValue([&](soci::session& tx) {
    const std::int64_t now = now_ms_();
    const auto held = store::HeldAttempts(tx, id, worker_id);
    if (!held) return false;
    if (permanent || held->attempts >= held->max_attempts) return store::MarkDead(tx, id, worker_id, error, now);
    const std::int64_t retry_at = now + RetryDelayMs(held->attempts, jitter_());
    return store::Requeue(tx, id, worker_id, retry_at, error, now);
  });
}

bool JobQueue::ExtendLease(std::int64_t id, const std::string& worker_id, std::int64_t lease_ms) {
  return db_.WriteValue([&](soci::session& tx) {
    const std::int64_t now = now_ms_();
    return store::ExtendLease(tx, id, worker_id, now + lease_ms, now);
  });
}

std::optional<Job> JobQueue::Get(std::int64_t id) {
  return db_.ReadValue([&](soci::session& s) { return store::Get(s, id); });
}

std::map<std::string, std::int64_t> JobQueue::CountByState() {
  auto counts = db_.ReadValue([](soci::session& s) { return store::CountByState(s); });
  for (JobState state : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kDead}) {
    counts.try_emplace(std::string(JobStateName(state)), 0);
  }
  return counts;
}

std::int64_t JobQueue::RetryDelayMs(int attempts, double jitter) {
  constexpr std::int64_t kBaseMs = 2'000;
  constexpr std::int64_t kCapMs = 3'600'000;
  const int doublings = std::clamp(attempts - 1, 0, 21);  // 2 s * 2^21 is far past the cap already
  const std::int64_t delay = std::min(kBaseMs << doublings, kCapMs);
  return static_cast<std::int64_t>(static_cast<double>(delay) * (1.0 + 0.2 * std::clamp(jitter, -1.0, 1.0)));
}

int JobQueue::Subscribe(std::function<void()> listener) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.emplace(next_token_, std::move(listener));
  return next_token_++;
}

void JobQueue::Unsubscribe(int token) {
  std::lock_guard lock(listeners_mutex_);
  listeners_.erase(token);
}

void JobQueue::NotifyEnqueued() {
  // Listeners only signal a condition variable; holding the lock makes Unsubscribe wait for them.
  std::lock_guard lock(listeners_mutex_);
  for (auto& [token, listener] : listeners_) listener();
}

}  // namespace poste::jobs
