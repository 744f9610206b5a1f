#pragma once
// The jobs table's SQL, and nothing else. Every function runs on a session the caller got from
// Database::Write (or Read for the queries), so the queue decides the transaction boundaries.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "db/dialect.hpp"
#include "jobs/job.hpp"

namespace soci {
class session;
}

namespace poste::jobs::store {

struct NewJob {
  std::string kind;
  std::string payload;
  std::int64_t run_at_ms = 0;
  int max_attempts = 5;
  std::optional<std::string> idempotency_key;
  std::int64_t now_ms = 0;
};

// The new job's id, or nullopt when a job with the same idempotency key exists (nothing is inserted).
std::optional<std::int64_t> Insert(soci::session& s, const NewJob& job);
std::optional<std::int64_t> FindIdByKey(soci::session& s, const std::string& idempotency_key);
std::optional<Job> Get(soci::session& s, std::int64_t id);

struct Candidate {
  std::int64_t id = 0;
  int attempts = 0;
  int max_attempts = 0;
};
// The running job whose lease expired longest ago, locked for this transaction (skipping rows other
// claimers hold on PostgreSQL). kinds empty = any kind.
std::optional<Candidate> PickExpired(soci::session& s, db::Dialect dialect, std::int64_t now_ms,
                                     const std::vector<std::string>& kinds);
// The queued job that has been due longest, locked likewise.
std::optional<Candidate> PickDue(soci::session& s, db::Dialect dialect, std::int64_t now_ms,
                                 const std::vector<std::string>& kinds);

void MarkRunning(soci::session& s, std::int64_t id, const std::string& worker_id, std::int64_t lease_until_ms,
                 std::int64_t now_ms);

// The functions below change a job only while `worker_id` holds it (state running, locked_by = worker_id),
// and return false otherwise: a worker whose lease expired and whose job was claimed again cannot overwrite.
std::optional<Candidate> HeldAttempts(soci::session& s, std::int64_t id, const std::string& worker_id);
bool MarkDone(soci::session& s, std::int64_t id, const std::string& worker_id, std::int64_t now_ms);
bool Requeue(soci::session& s, std::int64_t id, const std::string& worker_id, std::int64_t run_at_ms,
             const std::string& error, std::int64_t now_ms);
bool MarkDead(soci::session& s, std::int64_t id, const std::string& worker_id, const std::string& error,
              std::int64_t now_ms);
bool ExtendLease(soci::session& s, std::int64_t id, const std::string& worker_id, std::int64_t lease_until_ms,
                 std::int64_t now_ms);

// A running job whose worker vanished during its last attempt: dead, whoever held it.
void BuryExpired(soci::session& s, std::int64_t id, const std::string& error, std::int64_t now_ms);

// state name -> count, for the states that have jobs.
std::map<std::string, std::int64_t> CountByState(soci::session& s);

}  // namespace poste::jobs::store
