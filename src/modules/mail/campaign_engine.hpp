#pragma once
// Sends campaigns: a running campaign has lanes, a lane being a chain of batch jobs (each queues the next)
// holding connections of the account open between batches. The campaign's `parallel` connections are
// split among its lanes by what the account's transport drives from one thread (SMTP: up to 16, so one lane
// carries them all; HTTP APIs: one each, so `parallel` lanes); lanes left without a connection end at once.
// A batch job claims batch_size recipients at a time, for job_slice, and hands them to the transport
// (CampaignBatch, which claims the next ones while the current ones go out); each recipient is recorded as sent right
// before the end of its message goes out, so after a crash the job that runs again sends exactly the recipients that
// did not get their message. After kPauseAfterErrors failures in a row, the campaign pauses with the last error as the
// reason.
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

#include "modules/mail/campaign_batch.hpp"
#include "modules/mail/campaign_sent_recorder.hpp"
#include "modules/mail/campaign_service.hpp"

namespace poste::mail {

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
