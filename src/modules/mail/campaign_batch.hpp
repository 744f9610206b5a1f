#pragma once
// One batch of a campaign lane, as the DeliverySource its account's transport sends from: it hands out the
// claimed recipients' messages (rendered, built around the batch's MessageStencil, signed; suppressed
// addresses skipped; the account's limits waited for), records each recipient as sent right before the end
// of its message goes out (several at once when several connections get there together), and keeps each
// outcome for RecordOutcomes. It gives no more messages once the campaign stops running, its claim is lost,
// kPauseAfterErrors messages failed in a row, or the limits ask for a longer wait than a lane sleeps:
// `end()` says which. The messages are rendered and built ahead by a thread of the batch's own, so that the
// lane's thread (which drives the connections and the commits) has only the sending to do.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lib/mail/delivery.hpp"
#include "lib/mail/mime_stencil.hpp"
#include "modules/mail/campaign_sent_recorder.hpp"
#include "modules/mail/campaign_service.hpp"

namespace poste::mail {

struct CampaignEngineOptions {
  int batch_size = 500;
  std::chrono::milliseconds state_check{1000};    // how often a batch looks whether its campaign was paused
  std::int64_t max_inline_wait_ms = 5000;         // a longer wait for the limits re-queues the lane instead
  std::chrono::milliseconds flush_interval{500};  // outcomes of sent rows are written together
  std::chrono::milliseconds job_slice{3000};      // how long one batch job goes on claiming before the next
};

struct BatchEnd {
  enum class Kind {
    kDone,     // every row was handed out
    kStopped,  // the campaign is no longer running, or this job lost its claim: release the rest
    kPause,    // too many failures in a row: pause the campaign with `reason`
    kLimits,   // the account's limits: come back in `wait_ms`
  };
  Kind kind = Kind::kDone;
  std::string reason;
  std::int64_t wait_ms = 0;
};

class CampaignBatch final : public DeliverySource {
 public:
  // Prepares what every message of the batch shares. Throws AppError when the campaign cannot send (its
  // template, unsubscribe links or signing keys): retrying cannot help until someone acts.
  CampaignBatch(CampaignService& service, SentRecorder& recorder, const CampaignEngineOptions& options,
                const Campaign& campaign, std::int64_t job_id, const CampaignSender& sender);
  ~CampaignBatch() override;
  CampaignBatch(const CampaignBatch&) = delete;
  CampaignBatch& operator=(const CampaignBatch&) = delete;

  // The rows to send next (claimed by the job), the builder starting on them at once. Called first, and
  // again after SendAll returned with end().kind == kDone: a lane sends several claims with one batch (and
  // one builder thread: threads started per claim each kept a malloc arena of their own).
  void Refill(std::vector<CampaignRecipient> rows);

  const Delivery* Next() override;
  std::vector<char> Commit(const std::vector<const Delivery*>& group) override;
  void Done(const Delivery& delivery, DeliveryResult result) override;

  // Writes the outcomes not written yet.
  void Flush();
  const BatchEnd& end() const { return end_; }

 private:
  struct Item {  // a row's message, built by the builder thread
    Delivery delivery;
    OutgoingMessage message;
    BuiltMessage built;
    std::string problem;       // why it cannot be built ("" when built)
    std::exception_ptr error;  // what the build threw besides AppError: rethrown on the lane's thread
    bool suppressed = false;
    bool recorded = false;  // as sent, by Commit
  };
  void Build();  // the builder thread: the rows of each Refill
  void BuildRows(std::size_t count);
  void Build(CampaignRecipient& r, Item& item) const;
  // Waits for the builder to finish row i.
  void WaitBuilt(std::size_t i);
  std::size_t IndexOf(const Delivery& delivery) const;
  // Whether the next message may go: the campaign still runs (checked every state_check), outcomes flushed.
  bool MayGoOn();
  void Stop(BatchEnd::Kind kind, std::string reason = {}, std::int64_t wait_ms = 0);
  void Outcome(CampaignRecipient& r, std::optional<std::int64_t> retry_at = std::nullopt);

  CampaignService& service_;
  SentRecorder& recorder_;
  const CampaignEngineOptions& options_;
  const Campaign& campaign_;
  const std::int64_t job_id_;
  std::vector<CampaignRecipient> rows_;
  std::vector<Item> items_;  // one per row, never resized (deliveries point into it)
  std::size_t next_row_ = 0;
  const CampaignSender& sender_;

  std::optional<CompiledTemplate> compiled_;
  std::optional<MessageStencil> stencil_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::function<UnsubscribeLinks(const std::string&)> unsubscribe_links_;
  std::function<std::string(const std::string&, const std::string&)> dkim_sign_;
  std::set<std::string> suppressed_;
  std::string domain_, envelope_from_;

  // The builder: rows [0, built_) are ready. It keeps at most kAhead rows ahead of the lane (their messages
  // are in memory), sleeping until the lane is kAhead / 2 behind; the lane waits on `built_cv_` only when it
  // caught up. Either wakes the other only when it sleeps.
  static constexpr std::size_t kAhead = 64;
  std::atomic<std::size_t> built_{0}, taken_{0};
  std::uint64_t generation_ = 0;  // Refill calls (under built_mutex_)
  std::atomic<bool> cancel_{false}, lane_waiting_{false}, builder_waiting_{false};
  std::mutex built_mutex_;
  std::condition_variable built_cv_, builder_cv_;
  std::thread builder_;

  std::vector<campaign_store::RecipientOutcome> outcomes_;
  std::chrono::steady_clock::time_point last_check_, last_flush_;
  int errors_in_a_row_ = 0;
  BatchEnd end_;
  bool stopped_ = false;
};

}  // namespace poste::mail
