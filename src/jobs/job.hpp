#pragma once
// The durable job queue's vocabulary (DESIGN.md "Storage"): a job is a kind plus a JSON payload, run at
// least once by some worker. Handlers must be safe to run twice: a worker that dies mid-job leaves a lease
// that expires, and the job runs again.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace poste::jobs {

enum class JobState { kQueued, kRunning, kDone, kDead };

// "queued", "running", "done", "dead": the values stored in jobs.state and the metrics labels.
std::string_view JobStateName(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);

struct Job {
  std::int64_t id = 0;
  std::string kind;     // e.g. "mail.send"; selects the handler
  std::string payload;  // a JSON document
  JobState state = JobState::kQueued;
  std::int64_t run_at_ms = 0;  // not claimed before this time
  int attempts = 0;            // claims so far, including the current one
  int max_attempts = 0;
  std::optional<std::int64_t> lease_until_ms;  // while running: the claim expires at this time
  std::string locked_by;                       // the worker that claimed it last ("" if never claimed)
  std::optional<std::string> idempotency_key;
  std::string last_error;  // the most recent failure, kept even if a later attempt succeeded
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

struct EnqueueOptions {
  std::optional<std::int64_t> run_at_ms;  // default: now
  int max_attempts = 5;                   // the job is dead after this many failed attempts
  // A second Enqueue with the same key is a no-op returning the first job's id (for as long as that job
  // exists, whatever its state).
  std::optional<std::string> idempotency_key;
};

// Thrown by a handler for a failure that retrying cannot fix (bad payload, a recipient that does not exist):
// the job goes dead at once instead of being retried.
class PermanentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace poste::jobs
