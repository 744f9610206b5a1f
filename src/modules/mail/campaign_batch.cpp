#include "modules/mail/campaign_batch.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <thread>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/mail/address.hpp"

namespace poste::mail {
std::string FirstProblem(const AppError& e) {
  if (!e.fields().empty()) return e.fields().front().field + ": " + e.fields().front().message;
  return e.what();
}

std::string MessageIdDomain(const Mailbox& from) {
  const auto at = from.email.rfind('@');
  return at == std::string::npos ? std::string("localhost") : AsciiAddress(from.email).substr(at + 1);
}

CampaignBatch::CampaignBatch(CampaignService& service, SentRecorder& recorder, const CampaignEngineOptions& options,
                             const Campaign& campaign, std::int64_t job_id, const CampaignSender& sender,
                             std::vector<CampaignRecipient> rows, ClaimRows claim,
                             std::chrono::steady_clock::time_point claim_until)
    : service_(service),
      recorder_(recorder),
      options_(options),
      campaign_(campaign),
      job_id_(job_id),
      sender_(sender),
      claim_(std::move(claim)),
      claim_until_(claim_until) {
  const auto& hooks = service_.hooks();
  const Campaign& c = campaign_;
  compiled_ = CompiledTemplate::CompileForSending({c.subject, c.html, c.text});
  if (hooks.unsubscribe_linker) unsubscribe_links_ = hooks.unsubscribe_linker(c.site_id, c.id);
  if (hooks.dkim_signer) dkim_sign_ = hooks.dkim_signer(c.site_id);
  headers_ = {{"X-Poste-Campaign", std::to_string(c.id)}};
  OutgoingMessage common;  // From, Date and the MIME frame of this batch's messages, written once
  common.from = sender_.from;
  common.headers = headers_;
  stencil_.emplace(common);
  envelope_from_ = AsciiAddress(sender_.from.email);
  last_check_ = last_flush_ = std::chrono::steady_clock::now();
  if (rows.empty()) {
    exhausted_ = true;
  } else {
    auto chunk = std::make_unique<Chunk>();
    chunk->last_id = rows.back().id;
    chunk->rows = std::move(rows);
    chunk->items.resize(chunk->rows.size());
    chunks_.push_back(std::move(chunk));
  }
  builder_ = std::thread([this] { Build(); });
}

CampaignBatch::~CampaignBatch() { StopBuilder(); }

void CampaignBatch::StopBuilder() {
  if (!builder_.joinable()) return;
  {
    std::lock_guard lock(built_mutex_);
    cancel_ = true;
    builder_cv_.notify_one();
  }
  builder_.join();
}

void CampaignBatch::Close() {
  StopBuilder();
  Flush();
}

void CampaignBatch::Exhaust(BatchEnd::Kind kind, std::exception_ptr error) {
  std::lock_guard lock(built_mutex_);
  exhausted_ = true;
  exhausted_kind_ = kind;
  exhausted_error_ = std::move(error);
  built_cv_.notify_one();
}

void CampaignBatch::Build() {
  Chunk* chunk = nullptr;
  {
    std::lock_guard lock(built_mutex_);
    if (exhausted_) return;
    chunk = chunks_.front().get();
  }
  for (;;) {
    // Read before the last row is published: the lane may free the chunk as soon as it took it.
    const std::size_t end = chunk->first + chunk->rows.size();
    const std::int64_t after_id = chunk->last_id;
    try {
      if (!BuildChunk(*chunk)) return;
    } catch (...) {  // the suppression list could not be read
      return Exhaust(BatchEnd::Kind::kStopped, std::current_exception());
    }
    {
      std::vector<std::unique_ptr<Chunk>> retired;
      std::lock_guard lock(built_mutex_);
      retired.swap(retired_);  // freed when this block ends, after the lock
    }
    if (std::chrono::steady_clock::now() >= claim_until_) return Exhaust(BatchEnd::Kind::kDone);
    std::optional<std::vector<CampaignRecipient>> rows;
    try {
      rows = claim_(after_id);
    } catch (...) {
      return Exhaust(BatchEnd::Kind::kStopped, std::current_exception());
    }
    if (!rows) return Exhaust(BatchEnd::Kind::kStopped);
    if (rows->empty()) return Exhaust(BatchEnd::Kind::kDrained);
    auto next = std::make_unique<Chunk>();
    next->first = end;
    next->last_id = rows->back().id;
    next->rows = std::move(*rows);
    next->items.resize(next->rows.size());
    chunk = next.get();
    std::lock_guard lock(built_mutex_);
    chunks_.push_back(std::move(next));
  }
}

bool CampaignBatch::BuildChunk(Chunk& chunk) {
  if (const auto& among = service_.hooks().suppressed_among) {
    std::vector<std::string> emails;
    emails.reserve(chunk.rows.size());
    for (const auto& r : chunk.rows) emails.push_back(r.email);
    for (auto& e : among(campaign_.site_id, emails)) chunk.suppressed.insert(std::move(e));
  }
  for (std::size_t i = 0; i < chunk.rows.size(); ++i) {
    const std::size_t at = chunk.first + i;
    if (cancel_) return false;
    if (at >= taken_.load() + kAhead) {
      std::unique_lock lock(built_mutex_);
      builder_waiting_.store(true);
      builder_cv_.wait(lock, [&] { return cancel_ || at < taken_.load() + kAhead / 2; });
      builder_waiting_.store(false);
      if (cancel_) return false;
    }
    try {
      Build(chunk, chunk.rows[i], chunk.items[i]);
    } catch (...) {
      chunk.items[i].error = std::current_exception();
    }
    built_.store(at + 1);
    if (lane_waiting_.load()) {
      std::lock_guard lock(built_mutex_);
      built_cv_.notify_one();
    }
  }
  return true;
}

void CampaignBatch::Build(const Chunk& chunk, CampaignRecipient& r, Item& item) const {
  if (chunk.suppressed.count(r.email) != 0) {
    item.suppressed = true;
    return;
  }
  OutgoingMessage& m = item.message;  // whole, for transports that send its fields (SendGrid), not its bytes
  m.from = sender_.from;
  m.headers = headers_;
  m.to = {{r.name, r.email}};
  auto content = compiled_->Render(RecipientVariables(r));
  m.subject = std::move(content.subject);
  m.html = std::move(content.html);
  m.text = std::move(content.text);
  try {
    if (unsubscribe_links_) {
      auto links = unsubscribe_links_(r.email);
      m.list_unsubscribe_url = std::move(links.url);
      m.list_unsubscribe_mailto = std::move(links.mailto);
    }
    m.message_id = r.message_id;  // given by the claim
    item.built = stencil_->Build(m);
    if (dkim_sign_) item.built.bytes.insert(0, dkim_sign_(m.from.email, item.built.bytes));
  } catch (const AppError& e) {
    item.problem = FirstProblem(e);
    return;
  }
  Delivery& d = item.delivery;
  d.message = &item.message;
  d.built = &item.built;
  d.envelope_from = envelope_from_;
  d.recipients = EnvelopeRecipients(m);
}

bool CampaignBatch::WaitBuilt(std::size_t i) {
  if (built_.load() > i) return true;
  std::unique_lock lock(built_mutex_);
  lane_waiting_.store(true);
  if (builder_waiting_.load()) builder_cv_.notify_one();
  built_cv_.wait(lock, [&] { return built_.load() > i || exhausted_; });
  lane_waiting_.store(false);
  if (built_.load() > i) return true;
  // The builder stopped claiming; the rows it built before were all taken.
  if (exhausted_error_) std::rethrow_exception(exhausted_error_);
  Stop(exhausted_kind_);
  return false;
}

CampaignBatch::Row CampaignBatch::RowAt(std::size_t i) {
  if (lane_chunk_ == nullptr || i >= lane_chunk_->first + lane_chunk_->rows.size()) {
    Chunk* previous = lane_chunk_;
    {
      std::lock_guard lock(built_mutex_);
      const auto it = std::find_if(chunks_.begin(), chunks_.end(),
                                   [&](const auto& c) { return c->first <= i && i < c->first + c->rows.size(); });
      if (it == chunks_.end()) throw std::logic_error("a built row without its chunk");
      lane_chunk_ = it->get();
    }
    live_.push_back(lane_chunk_);
    if (previous != nullptr) FreeIfFinished(previous);
  }
  return {lane_chunk_, i - lane_chunk_->first};
}

CampaignBatch::Row CampaignBatch::RowOf(const Delivery& delivery) const {
  // Deliveries point into a chunk's items: the row follows from the address.
  const auto at = reinterpret_cast<std::uintptr_t>(&delivery);
  for (Chunk* chunk : live_) {
    const auto first = reinterpret_cast<std::uintptr_t>(&chunk->items.front().delivery);
    if (at < first) continue;
    const std::size_t i = (at - first) / sizeof(Item);
    if (i < chunk->items.size() && &chunk->items[i].delivery == &delivery) return {chunk, i};
  }
  throw std::logic_error("a delivery this batch did not hand out");
}

void CampaignBatch::GiveBack(const Row& row) {
  ++row.chunk->given_back;
  FreeIfFinished(row.chunk);
}

void CampaignBatch::FreeIfFinished(Chunk* chunk) {
  // Every row of a chunk the lane has left is done: its memory goes.
  if (chunk->given_back < chunk->rows.size() || chunk == lane_chunk_) return;
  live_.erase(std::remove(live_.begin(), live_.end(), chunk), live_.end());
  std::lock_guard lock(built_mutex_);
  const auto it = std::find_if(chunks_.begin(), chunks_.end(), [&](const auto& c) { return c.get() == chunk; });
  retired_.push_back(std::move(*it));  // freed by the builder: hundreds of rows' allocations, off the lane
  chunks_.erase(it);
}

void CampaignBatch::Stop(BatchEnd::Kind kind, std::string reason, std::int64_t wait_ms) {
  if (stopped_) return;
  stopped_ = true;
  end_ = {kind, std::move(reason), wait_ms};
}

void CampaignBatch::Outcome(CampaignRecipient& r, std::optional<std::int64_t> retry_at) {
  outcomes_.emplace_back(r, retry_at);
}

void CampaignBatch::Flush() {
  if (outcomes_.empty()) return;
  // Sent rows are already recorded as sent (Commit): a crash before a flush only loses provider ids and
  // answers, never a state that matters.
  service_.db().Write([&](soci::session& s) { campaign_store::RecordOutcomes(s, outcomes_, job_id_); });
  outcomes_.clear();
}

bool CampaignBatch::MayGoOn() {
  const auto tick = std::chrono::steady_clock::now();
  if (tick - last_check_ >= options_.state_check) {
    last_check_ = tick;
    const auto state = service_.db().ReadValue([&](soci::session& s) {
      auto now = campaign_store::GetCampaign(s, campaign_.site_id, campaign_.id);
      return now ? now->state : CampaignState::kCancelled;
    });
    if (state != CampaignState::kRunning) {
      Stop(BatchEnd::Kind::kStopped);
      return false;
    }
  }
  if (tick - last_flush_ >= options_.flush_interval) {
    last_flush_ = tick;
    Flush();
  }
  return true;
}

const Delivery* CampaignBatch::Next() {
  while (!stopped_) {
    if (!MayGoOn()) return nullptr;
    const std::size_t i = next_row_;
    if (!WaitBuilt(i)) return nullptr;
    next_row_ = i + 1;
    taken_.store(next_row_);
    if (builder_waiting_.load() && i + kAhead / 2 >= built_.load()) {
      std::lock_guard lock(built_mutex_);
      builder_cv_.notify_one();
    }
    const Row row = RowAt(i);
    CampaignRecipient& r = row.recipient();
    Item& item = row.item();
    if (item.error) std::rethrow_exception(item.error);
    if (item.suppressed || !item.problem.empty()) {
      r.state = item.suppressed ? RecipientState::kSkipped : RecipientState::kFailed;
      r.last_error = item.suppressed ? "suppressed" : item.problem;
      Outcome(r);
      GiveBack(row);
      continue;
    }
    while (sender_.reserve) {
      const auto wait = sender_.reserve();
      if (wait <= 0) break;
      if (wait > options_.max_inline_wait_ms) {
        Stop(BatchEnd::Kind::kLimits, {}, wait);  // this row is still claimed: released with the rest
        return nullptr;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
    item.delivery.on_commit = [this, d = &item.delivery] { return Commit({d}).front() != 0; };
    return &item.delivery;
  }
  return nullptr;
}

std::vector<char> CampaignBatch::Commit(const std::vector<const Delivery*>& group) {
  std::vector<campaign_store::SentMark> marks;
  marks.reserve(group.size());
  const auto now = service_.Now();
  for (const Delivery* d : group) {
    const Row row = RowOf(*d);
    marks.push_back({campaign_.site_id, row.recipient().id, job_id_, now});
  }
  recorder_.Record(marks);
  std::vector<char> ok(group.size(), 0);
  for (std::size_t i = 0; i < group.size(); ++i) {
    RowOf(*group[i]).item().recorded = marks[i].recorded;
    ok[i] = marks[i].recorded ? 1 : 0;
    // Paused and resumed, or cancelled, while this lane was sending: the rows are no longer this job's.
    if (!marks[i].recorded) Stop(BatchEnd::Kind::kStopped);
  }
  return ok;
}

void CampaignBatch::Done(const Delivery& delivery, DeliveryResult result) {
  const Row row = RowOf(delivery);
  Item& item = row.item();
  CampaignRecipient& r = row.recipient();
  // Recorded even after a stop: a row this job no longer holds is left alone by RecordOutcomes.
  r.attempts += 1;
  r.provider_id = result.provider_message_id;
  std::optional<std::int64_t> retry_at;
  switch (result.outcome) {
    case DeliveryOutcome::kSent:
      if (!item.recorded) {  // a transport that did not commit: record it now
        service_.db().Write(
            [&](soci::session& s) { campaign_store::MarkSent(s, campaign_.site_id, r.id, job_id_, service_.Now()); });
      }
      r.state = RecipientState::kSent;
      r.sent_at = service_.Now();
      r.last_error.clear();
      errors_in_a_row_ = 0;
      break;
    case DeliveryOutcome::kPermanent:
      r.state = RecipientState::kFailed;
      r.last_error = result.answer;
      ++errors_in_a_row_;
      break;
    case DeliveryOutcome::kTemporary:
      r.last_error = result.answer;
      if (r.attempts >= kMaxRecipientAttempts) {
        r.state = RecipientState::kFailed;
      } else {
        r.state = RecipientState::kPending;
        retry_at = service_.Now() + jobs::JobQueue::RetryDelayMs(r.attempts, 0);
      }
      ++errors_in_a_row_;
      break;
  }
  Outcome(r, retry_at);
  item.message = {};  // what was sent is not needed any more
  item.built = {};
  if (errors_in_a_row_ >= kPauseAfterErrors) {
    Stop(BatchEnd::Kind::kPause,
         "paused after " + std::to_string(errors_in_a_row_) + " failures in a row; the last: " + result.answer);
  }
  GiveBack(row);
}

}  // namespace poste::mail
