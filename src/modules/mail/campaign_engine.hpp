#pragma once
// Sends campaigns: each running campaign has `parallel` lanes, a lane being a chain of batch jobs (each
// queues the next), each holding one connection of the account open. A batch claims up to batch_size
// recipients, renders and builds each message, waits for the account's limits, and delivers it; the
// recipient is recorded as sent right before the end of its message goes out (Delivery::on_commit), so
// after a crash the job that runs again sends exactly the recipients that did not get their message.
// After kPauseAfterErrors failures in a row, the campaign pauses with the last error as the reason.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

#include "modules/mail/campaign_sent_recorder.hpp"
#include "modules/mail/campaign_service.hpp"

namespace poste::mail {

struct CampaignEngineOptions {
  int batch_size = 500;
  std::chrono::milliseconds state_check{1000};    // how often a batch looks whether its campaign was paused
  std::int64_t max_inline_wait_ms = 5000;         // a longer wait for the limits re-queues the lane instead
  std::chrono::milliseconds flush_interval{500};  // outcomes of sent rows are written together
};

class CampaignEngine {
 public:
  CampaignEngine(CampaignService& service, jobs::JobQueue& queue, CampaignEngineOptions options = {});

  // The job of kCampaignBatchJobKind ({site_id, campaign_id, lane}).
  void HandleBatch(const jobs::Job& job);

 private:
  struct Lane {
    std::int64_t site_id = 0, campaign_id = 0;
    int lane = 0;
    int run = 0;  // the campaign's run that queued this chain
  };
  void QueueNext(const Lane& lane, const jobs::Job& job, std::int64_t run_at_ms, const char* why);
  // No row to claim: finish the campaign when nothing is left, or come back when a retry is due.
  void FinishOrWait(const Lane& lane, const jobs::Job& job);
  void PauseFor(const Lane& lane, std::int64_t job_id, const std::string& reason);
  // A connection kept between the batches of a lane (same campaign, same process).
  CampaignSender TakeSender(const Campaign& c, int lane);
  void KeepSender(const Campaign& c, int lane, CampaignSender sender);
  void DropSender(const Lane& lane);

  CampaignService& service_;
  jobs::JobQueue& queue_;
  CampaignEngineOptions options_;
  SentRecorder recorder_;  // shared by the lanes: one transaction records the rows of all that wait
  std::mutex senders_mutex_;
  std::map<std::pair<std::int64_t, int>, CampaignSender> senders_;
};

}  // namespace poste::mail
