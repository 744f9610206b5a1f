#pragma once
// Records campaign recipients as sent for every lane of the process together (group commit). A lane must
// record its recipient right before the end of the message goes out (exactly-once across a crash), so each
// message costs a transaction; with several lanes sending at once, the lane that finds no transaction
// running writes its rows and those of the lanes that asked meanwhile in one, and the others wait for it.
// Lanes then share one SQLite commit (and its WAL pages) instead of taking turns.
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

  // Blocking: returns once the rows are recorded, each mark's `recorded` saying whether its row was still
  // claimed by its job (false: paused and resumed, or cancelled). Throws what the database threw.
  void Record(std::vector<campaign_store::SentMark>& marks);

 private:
  struct Request {
    std::vector<campaign_store::SentMark>* marks = nullptr;
    bool done = false;
    std::exception_ptr error;
  };

  db::Database& db_;
  std::mutex mutex_;
  std::condition_variable done_;
  std::vector<Request*> waiting_;  // asked while a transaction was running: the next one takes them
  bool writing_ = false;
  campaign_store::SentMarker marker_;  // used by the lane writing, one at a time
};

}  // namespace poste::mail
