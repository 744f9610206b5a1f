#include "jobs/job_store.hpp"

#include <soci/soci.h>

namespace poste::jobs::store {
namespace {

constexpr const char* kColumns =
    "id, kind, payload, state, run_at, attempts, max_attempts, lease_until, locked_by, idempotency_key, last_error,"
    " created_at, updated_at";

// Errors are kept for diagnosis, not as logs: a bounded size keeps a runaway message out of the table.
std::string Truncate(const std::string& error) {
  constexpr std::size_t kMax = 2000;
  return error.size() <= kMax ? error : error.substr(0, kMax) + "...";
}

// Runs a SELECT id, attempts, max_attempts ... LIMIT 1 with :now and the kinds bound as :k0, :k1, ...
std::optional<Candidate> Pick(soci::session& s, db::Dialect dialect, const std::string& condition,
                              const std::string& order, std::int64_t now_ms, const std::vector<std::string>& kinds) {
  std::string sql = "SELECT id, attempts, max_attempts FROM jobs WHERE " + condition;
  if (!kinds.empty()) {
    sql += " AND kind IN (";
    for (std::size_t i = 0; i < kinds.size(); ++i) sql += (i == 0 ? ":k" : ", :k") + std::to_string(i);
    sql += ")";
  }
  sql += " ORDER BY " + order + " LIMIT 1" + std::string(db::ForUpdateSkipLocked(dialect));

  Candidate c;
  long long now = now_ms;
  long long id = 0;
  soci::statement st(s);
  st.exchange(soci::use(now, "now"));
  for (std::size_t i = 0; i < kinds.size(); ++i) st.exchange(soci::use(kinds[i], "k" + std::to_string(i)));
  st.exchange(soci::into(id));
  st.exchange(soci::into(c.attempts));
  st.exchange(soci::into(c.max_attempts));
  st.alloc();
  st.prepare(sql);
  st.define_and_bind();
  if (!st.execute(true)) return std::nullopt;
  c.id = id;
  return c;
}

// Runs an UPDATE ... RETURNING id: whether a row matched.
template <class... Uses>
bool UpdateMatched(soci::session& s, const std::string& sql, Uses&&... uses) {
  long long id = 0;
  ((s << sql + " RETURNING id", soci::into(id)), ..., uses);
  return s.got_data();
}

}  // namespace

std::optional<std::int64_t> Insert(soci::session& s, const NewJob& job) {
  long long id = 0;
  const long long run_at = job.run_at_ms;
  const long long now = job.now_ms;
  const std::string key = job.idempotency_key.value_or("");
  soci::indicator key_ind = job.idempotency_key ? soci::i_ok : soci::i_null;
  s << "INSERT INTO jobs (kind, payload, state, run_at, attempts, max_attempts, idempotency_key, created_at,"
       " updated_at) VALUES (:kind, :payload, 'queued', :run_at, 0, :max_attempts, :key, :created, :updated)"
       " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
      soci::use(job.kind), soci::use(job.payload), soci::use(run_at), soci::use(job.max_attempts),
      soci::use(key, key_ind), soci::use(now), soci::use(now), soci::into(id);
  if (!s.got_data()) return std::nullopt;
  return id;
}

std::optional<std::int64_t> FindIdByKey(soci::session& s, const std::string& idempotency_key) {
  long long id = 0;
  s << "SELECT id FROM jobs WHERE idempotency_key = :key", soci::use(idempotency_key), soci::into(id);
  if (!s.got_data()) return std::nullopt;
  return id;
}

std::optional<Job> Get(soci::session& s, std::int64_t id) {
  Job job;
  long long job_id = 0, run_at = 0, lease_until = 0, created_at = 0, updated_at = 0;
  std::string state, locked_by, key, last_error;
  soci::indicator lease_ind = soci::i_ok, locked_ind = soci::i_ok, key_ind = soci::i_ok, error_ind = soci::i_ok;
  const long long wanted = id;
  s << "SELECT " + std::string(kColumns) + " FROM jobs WHERE id = :id", soci::use(wanted), soci::into(job_id),
      soci::into(job.kind), soci::into(job.payload), soci::into(state), soci::into(run_at), soci::into(job.attempts),
      soci::into(job.max_attempts), soci::into(lease_until, lease_ind), soci::into(locked_by, locked_ind),
      soci::into(key, key_ind), soci::into(last_error, error_ind), soci::into(created_at), soci::into(updated_at);
  if (!s.got_data()) return std::nullopt;
  job.id = job_id;
  job.state = ParseJobState(state).value_or(JobState::kQueued);  // the CHECK constraint allows only the four
  job.run_at_ms = run_at;
  if (lease_ind == soci::i_ok) job.lease_until_ms = lease_until;
  if (locked_ind == soci::i_ok) job.locked_by = locked_by;
  if (key_ind == soci::i_ok) job.idempotency_key = key;
  if (error_ind == soci::i_ok) job.last_error = last_error;
  job.created_at_ms = created_at;
  job.updated_at_ms = updated_at;
  return job;
}

std::optional<Candidate> PickExpired(soci::session& s, db::Dialect dialect, std::int64_t now_ms,
                                     const std::vector<std::string>& kinds) {
  return Pick(s, dialect, "state = 'running' AND lease_until <= :now", "lease_until, id", now_ms, kinds);
}

std::optional<Candidate> PickDue(soci::session& s, db::Dialect dialect, std::int64_t now_ms,
                                 const std::vector<std::string>& kinds) {
  return Pick(s, dialect, "state = 'queued' AND run_at <= :now", "run_at, id", now_ms, kinds);
}

void MarkRunning(soci::session& s, std::int64_t id, const std::string& worker_id, std::int64_t lease_until_ms,
                 std::int64_t now_ms) {
  const long long job = id, lease = lease_until_ms, now = now_ms;
  s << "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_until = :lease, locked_by = :worker,"
       " updated_at = :now WHERE id = :id",
      soci::use(lease), soci::use(worker_id), soci::use(now), soci::use(job);
}

std::optional<Candidate> HeldAttempts(soci::session& s, std::int64_t id, const std::string& worker_id) {
  Candidate c;
  const long long job = id;
  s << "SELECT attempts, max_attempts FROM jobs WHERE id = :id AND state = 'running' AND locked_by = :worker",
      soci::use(job), soci::use(worker_id), soci::into(c.attempts), soci::into(c.max_attempts);
  if (!s.got_data()) return std::nullopt;
  c.id = id;
  return c;
}

bool MarkDone(soci::session& s, std::int64_t id, const std::string& worker_id, std::int64_t now_ms) {
  const long long job = id, now = now_ms;
  return UpdateMatched(s,
                       "UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = :now"
                       " WHERE id = :id AND state = 'running' AND locked_by = :worker",
                       soci::use(now), soci::use(job), soci::use(worker_id));
}

bool Requeue(soci::session& s, std::int64_t id, const std::string& worker_id, std::int64_t run_at_ms,
             const std::string& error, std::int64_t now_ms) {
  const long long job = id, run_at = run_at_ms, now = now_ms;
  const std::string text = Truncate(error);
  return UpdateMatched(s,
                       "UPDATE jobs SET state = 'queued', run_at = :run_at, lease_until = NULL, last_error = :error,"
                       " updated_at = :now WHERE id = :id AND state = 'running' AND locked_by = :worker",
                       soci::use(run_at), soci::use(text), soci::use(now), soci::use(job), soci::use(worker_id));
}

bool MarkDead(soci::session& s, std::int64_t id, const std::string& worker_id, const std::string& error,
              std::int64_t now_ms) {
  const long long job = id, now = now_ms;
  const std::string text = Truncate(error);
  return UpdateMatched(s,
                       "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = :error, updated_at = :now"
                       " WHERE id = :id AND state = 'running' AND locked_by = :worker",
                       soci::use(text), soci::use(now), soci::use(job), soci::use(worker_id));
}

bool ExtendLease(soci::session& s, std::int64_t id, const std::string& worker_id, std::int64_t lease_until_ms,
                 std::int64_t now_ms) {
  const long long job = id, lease = lease_until_ms, now = now_ms;
  return UpdateMatched(s,
                       "UPDATE jobs SET lease_until = :lease, updated_at = :now"
                       " WHERE id = :id AND state = 'running' AND locked_by = :worker",
                       soci::use(lease), soci::use(now), soci::use(job), soci::use(worker_id));
}

void BuryExpired(soci::session& s, std::int64_t id, const std::string& error, std::int64_t now_ms) {
  const long long job = id, now = now_ms;
  const std::string text = Truncate(error);
  s << "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = :error, updated_at = :now WHERE id = :id",
      soci::use(text), soci::use(now), soci::use(job);
}

std::map<std::string, std::int64_t> CountByState(soci::session& s) {
  std::map<std::string, std::int64_t> counts;
  std::string state;
  long long count = 0;
  soci::statement st =
      (s.prepare << "SELECT state, COUNT(*) FROM jobs GROUP BY state", soci::into(state), soci::into(count));
  st.execute();
  while (st.fetch()) counts[state] = count;
  return counts;
}

}  // namespace poste::jobs::store
