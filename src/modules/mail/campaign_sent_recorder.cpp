#include "modules/mail/campaign_sent_recorder.hpp"

#include <soci/soci.h>

#include "db/database.hpp"

namespace poste::mail {

bool SentRecorder::Record(std::int64_t recipient_id, std::int64_t job_id, const std::string& message_id,
                          std::int64_t now_ms) {
  Request request;
  request.mark = {recipient_id, job_id, message_id, now_ms};
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
      std::vector<campaign_store::SentMark*> marks;
      marks.reserve(group.size());
      for (Request* r : group) marks.push_back(&r->mark);
      db_.Write([&](soci::session& s) { campaign_store::MarkSent(s, marks); });
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
  return request.mark.recorded;
}

}  // namespace poste::mail
