#pragma once
// What one batch job of a campaign lane sends, as the DeliverySource its account's transport sends from: it
// hands out the claimed recipients' messages (rendered, built around the batch's MessageStencil, signed;
// suppressed addresses skipped; the account's limits waited for), records each recipient as sent right
// before the end of its message goes out (several at once when several connections get there together), and
// keeps each outcome for RecordOutcomes. The messages are rendered and built ahead by a thread of the batch's
// own, which also claims the next rows before the lane runs out of them, so that the lane's thread (which
// drives the connections and the commits) has only the sending to do and its connections never wait between
// claims. It gives no more messages once the job's time is up, no row is left to claim, the campaign stops
// running, its claim is lost, kPauseAfterErrors messages failed in a row, or the limits ask for a longer wait
// than a lane sleeps: `end()` says which.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "lib/error.hpp"
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
    kDone,     // the job's time is up (job_slice): the next job of the lane goes on
    kDrained,  // no row left to claim now: the campaign is finished, or waits for retries or other lanes
    kStopped,  // the campaign is no longer running, or this job lost its claim: release the rest
    kPause,    // too many failures in a row: pause the campaign with `reason`
    kLimits,   // the account's limits: come back in `wait_ms`
  };
  Kind kind = Kind::kDone;
  std::string reason;
  std::int64_t wait_ms = 0;
};

// Why a campaign cannot send, in one line for its paused_reason or a recipient's last_error: the first
// field error ("field: message"), else the error's message.
std::string FirstProblem(const AppError& e);

// The right side of the Message-IDs of a campaign's messages from `from`: its domain (Claim writes them).
std::string MessageIdDomain(const Mailbox& from);

// Claims the lane's next rows after the given recipient id (campaign_store::Claim): nullopt when the campaign
// no longer runs as the lane's run. Called from the batch's builder thread.
using ClaimRows = std::function<std::optional<std::vector<CampaignRecipient>>(std::int64_t after_id)>;

class CampaignBatch final : public DeliverySource {
 public:
  // Prepares what every message of the batch shares and starts building `rows` (claimed by the job). When
  // they run low, the builder claims the next rows with `claim` until `claim_until`, so that the lane's
  // connections never wait for a claim. Throws AppError when the campaign cannot send (its template,
  // unsubscribe links or signing keys): retrying cannot help until someone acts.
  CampaignBatch(CampaignService& service, SentRecorder& recorder, const CampaignEngineOptions& options,
                const Campaign& campaign, std::int64_t job_id, const CampaignSender& sender,
                std::vector<CampaignRecipient> rows, ClaimRows claim,
                std::chrono::steady_clock::time_point claim_until);
  ~CampaignBatch() override;
  CampaignBatch(const CampaignBatch&) = delete;
  CampaignBatch& operator=(const CampaignBatch&) = delete;

  const Delivery* Next() override;
  std::vector<char> Commit(const std::vector<const Delivery*>& group) override;
  void Done(const Delivery& delivery, DeliveryResult result) override;

  // After SendAll: stops the builder (no claim runs after this returns) and writes the outcomes not written
  // yet. Rows claimed and not handed out stay claimed: the end's kind says what the job does with them.
  void Close();
  const BatchEnd& end() const { return end_; }

 private:
  struct Chunk;
  struct Item {  // a row's message, built by the builder thread
    Delivery delivery;
    OutgoingMessage message;
    BuiltMessage built;
    std::string problem;       // why it cannot be built ("" when built)
    std::exception_ptr error;  // what the build threw besides AppError: rethrown on the lane's thread
    bool suppressed = false;
    bool recorded = false;  // as sent, by Commit
  };
  // The rows of one claim and their messages. Chunks are created by the builder, freed by the lane once
  // every row was handed out and given back.
  struct Chunk {
    std::vector<CampaignRecipient> rows;
    std::vector<Item> items;  // one per row, never resized (deliveries point into it)
    std::set<std::string> suppressed;
    std::size_t first = 0;       // the batch-wide index of rows[0]
    std::int64_t last_id = 0;    // the id of rows.back(), read by the builder when it claims after this chunk
    std::size_t given_back = 0;  // rows done (Done, or skipped by Next)
  };
  struct Row {
    Chunk* chunk;
    std::size_t index;
    CampaignRecipient& recipient() const { return chunk->rows[index]; }
    Item& item() const { return chunk->items[index]; }
  };
  void Build();  // the builder thread
  // Builds the rows of `chunk` (looking up suppressed addresses first); false when cancelled.
  bool BuildChunk(Chunk& chunk);
  void Build(const Chunk& chunk, CampaignRecipient& r, Item& item) const;
  // The builder stops claiming: no row after those built (the lane ends with `kind`, or rethrows `error`).
  void Exhaust(BatchEnd::Kind kind, std::exception_ptr error = nullptr);
  void StopBuilder();
  // Waits for the builder to finish row i; false when there is no such row (the builder stopped claiming).
  bool WaitBuilt(std::size_t i);
  Row RowAt(std::size_t i);                   // a built row the lane takes
  Row RowOf(const Delivery& delivery) const;  // a row handed out
  void GiveBack(const Row& row);              // counts the row done
  void FreeIfFinished(Chunk* chunk);
  // Whether the next message may go: the campaign still runs (checked every state_check), outcomes flushed.
  bool MayGoOn();
  void Stop(BatchEnd::Kind kind, std::string reason = {}, std::int64_t wait_ms = 0);
  void Outcome(CampaignRecipient& r, std::optional<std::int64_t> retry_at = std::nullopt);
  void Flush();

  CampaignService& service_;
  SentRecorder& recorder_;
  const CampaignEngineOptions& options_;
  const Campaign campaign_;  // a copy: the builder thread reads it
  const std::int64_t job_id_;
  const CampaignSender& sender_;
  const ClaimRows claim_;
  const std::chrono::steady_clock::time_point claim_until_;

  std::optional<CompiledTemplate> compiled_;
  std::optional<MessageStencil> stencil_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::function<UnsubscribeLinks(const std::string&)> unsubscribe_links_;
  std::function<std::string(const std::string&, const std::string&)> dkim_sign_;
  std::string envelope_from_;

  // The builder: rows [0, built_) of the batch are ready. It keeps at most kAhead rows ahead of the lane
  // (their messages are in memory), sleeping until the lane is kAhead / 2 behind; the lane waits on
  // `built_cv_` only when it caught up. Either wakes the other only when it sleeps. The window is wide
  // enough for the lane to go on sending while the builder claims the next rows.
  static constexpr std::size_t kAhead = 256;
  std::atomic<std::size_t> built_{0}, taken_{0};
  std::atomic<bool> cancel_{false}, lane_waiting_{false}, builder_waiting_{false};
  bool exhausted_ = false;  // under built_mutex_, with the two below
  BatchEnd::Kind exhausted_kind_ = BatchEnd::Kind::kDrained;
  std::exception_ptr exhausted_error_;
  std::mutex built_mutex_;
  std::condition_variable built_cv_, builder_cv_;
  std::deque<std::unique_ptr<Chunk>> chunks_;    // pushed by the builder, erased by the lane: under built_mutex_
  std::vector<std::unique_ptr<Chunk>> retired_;  // erased chunks the builder frees: under built_mutex_
  std::thread builder_;

  // The lane's side (its thread only).
  std::size_t next_row_ = 0;
  Chunk* lane_chunk_ = nullptr;
  std::vector<Chunk*> live_;  // the chunks rows were taken from and not all given back
  std::vector<campaign_store::RecipientOutcome> outcomes_;
  std::chrono::steady_clock::time_point last_check_, last_flush_;
  int errors_in_a_row_ = 0;
  BatchEnd end_;
  bool stopped_ = false;
};

}  // namespace poste::mail
