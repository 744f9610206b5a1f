#include "modules/mail/campaign_sent_recorder.hpp"

#include <soci/soci.h>

#include "db/database.hpp"

namespace poste::mail {

void SentRecorder::Record(std::vector<campaign_store::SentMark>& marks) {
  if (marks.empty()) return;
  Request request;
  request.marks = &marks;
  std::unique_lock lock(mutex_);
  waiting_.push_back(&request);
  while (!request.done) {
    if (writing_) {
      done_.wait(lock);
      continue;
    }
    // No transaction running: this lane writes every waiting row, its own among them.
    writing_ = true;
    std::vector<Request*> group;
    group.swap(waiting_);
    lock.unlock();
    std::exception_ptr error;
    try {
      std::vector<campaign_store::SentMark*> all;
      for (Request* r : group) {
        for (auto& mark : *r->marks) all.push_back(&mark);
      }
      db_.Write([&](soci::session& s) { marker_.Mark(s, all); });
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    for (Request* r : group) {
      r->done = true;
      r->error = error;
    }
    writing_ = false;
    done_.notify_all();
  }
  if (request.error) std::rethrow_exception(request.error);
}

}  // namespace poste::mail
