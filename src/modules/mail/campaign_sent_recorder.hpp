#pragma once
// Records campaign recipients as sent for every lane of the process together (group commit). A lane must
// record its recipient right before the end of the message goes out (exactly-once across a crash), so each
// message costs a transaction; with several lanes sending at once, the lane that finds no transaction
// running writes its row and those of the lanes that asked meanwhile in one, and the others wait for it.
// Four lanes then share one SQLite commit (and its WAL pages) instead of taking turns for four.
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "modules/mail/campaign_store.hpp"

namespace poste::db {
class Database;
}

namespace poste::mail {

class SentRecorder {
 public:
  explicit SentRecorder(db::Database& db) : db_(db) {}

  // Blocking: returns once the row is recorded (true) or found no longer claimed by job_id (false: paused and
  // resumed, or cancelled). Throws what the database threw.
  bool Record(std::int64_t recipient_id, std::int64_t job_id, const std::string& message_id, std::int64_t now_ms);

 private:
  struct Request {
    campaign_store::SentMark mark;
    bool done = false;
    std::exception_ptr error;
  };

  db::Database& db_;
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<Request*> waiting_;  // asked while a transaction was running: the next one takes them
  bool writing_ = false;
};

}  // namespace poste::mail
