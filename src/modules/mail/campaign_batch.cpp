#include "modules/mail/campaign_batch.hpp"

#include <soci/soci.h>

#include <thread>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/mail/address.hpp"

namespace poste::mail {
namespace {

// The right side of a campaign message's Message-ID: the sender's domain.
std::string DomainOf(const std::string& email) {
  const auto at = email.rfind('@');
  return at == std::string::npos ? std::string("localhost") : AsciiAddress(email).substr(at + 1);
}

std::string FirstProblem(const AppError& e) {
  if (!e.fields().empty()) return e.fields().front().field + ": " + e.fields().front().message;
  return e.what();
}

}  // namespace

CampaignBatch::CampaignBatch(CampaignService& service, SentRecorder& recorder, const CampaignEngineOptions& options,
                             const Campaign& campaign, std::int64_t job_id, const CampaignSender& sender)
    : service_(service), recorder_(recorder), options_(options), campaign_(campaign), job_id_(job_id), sender_(sender) {
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
  domain_ = DomainOf(sender_.from.email);
  envelope_from_ = AsciiAddress(sender_.from.email);
  last_check_ = last_flush_ = std::chrono::steady_clock::now();
  builder_ = std::thread([this] { Build(); });
}

void CampaignBatch::Refill(std::vector<CampaignRecipient> rows) {
  std::set<std::string> suppressed;
  if (const auto& among = service_.hooks().suppressed_among) {
    std::vector<std::string> emails;
    for (const auto& r : rows) emails.push_back(r.email);
    for (auto& e : among(campaign_.site_id, emails)) suppressed.insert(std::move(e));
  }
  std::lock_guard lock(built_mutex_);
  // The builder is idle: it built every row of the last rows, which the lane took.
  rows_ = std::move(rows);
  items_.clear();
  items_.resize(rows_.size());
  suppressed_ = std::move(suppressed);
  next_row_ = 0;
  built_ = 0;
  taken_ = 0;
  ++generation_;
  builder_cv_.notify_one();
}

CampaignBatch::~CampaignBatch() {
  {
    std::lock_guard lock(built_mutex_);
    cancel_ = true;
    builder_cv_.notify_one();
  }
  builder_.join();
}

void CampaignBatch::Build() {
  for (std::uint64_t seen = 0;;) {
    std::size_t count = 0;
    {
      std::unique_lock lock(built_mutex_);
      builder_cv_.wait(lock, [&] { return cancel_ || generation_ != seen; });
      if (cancel_) return;
      seen = generation_;
      count = rows_.size();
    }
    BuildRows(count);
  }
}

void CampaignBatch::BuildRows(std::size_t count) {
  for (std::size_t i = 0; i < count && !cancel_; ++i) {
    if (i >= taken_.load() + kAhead) {
      std::unique_lock lock(built_mutex_);
      builder_waiting_.store(true);
      builder_cv_.wait(lock, [&] { return cancel_ || i < taken_.load() + kAhead / 2; });
      builder_waiting_.store(false);
      if (cancel_) return;
    }
    try {
      Build(rows_[i], items_[i]);
    } catch (...) {
      items_[i].error = std::current_exception();
    }
    built_.store(i + 1);
    if (lane_waiting_.load()) {
      std::lock_guard lock(built_mutex_);
      built_cv_.notify_one();
    }
  }
}

void CampaignBatch::Build(CampaignRecipient& r, Item& item) const {
  if (suppressed_.count(r.email) != 0) {
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
    // The same id for every try of this recipient: a receiver that got it twice can tell.
    m.message_id = "c" + std::to_string(campaign_.id) + "." + std::to_string(r.id) + "@" + domain_;
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

void CampaignBatch::WaitBuilt(std::size_t i) {
  if (built_.load() > i) return;
  std::unique_lock lock(built_mutex_);
  lane_waiting_.store(true);
  if (builder_waiting_.load()) builder_cv_.notify_one();
  built_cv_.wait(lock, [&] { return built_.load() > i; });
  lane_waiting_.store(false);
}

std::size_t CampaignBatch::IndexOf(const Delivery& delivery) const {
  // Deliveries point into items_: their index follows from the address.
  const auto at = reinterpret_cast<std::uintptr_t>(&delivery);
  const auto first = items_.empty() ? 0 : reinterpret_cast<std::uintptr_t>(&items_.front().delivery);
  const std::size_t i = at >= first ? (at - first) / sizeof(Item) : items_.size();
  if (i >= items_.size() || &items_[i].delivery != &delivery) {
    throw std::logic_error("a delivery this batch did not hand out");
  }
  return i;
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
  while (!stopped_ && next_row_ < rows_.size()) {
    if (!MayGoOn()) return nullptr;
    const std::size_t i = next_row_++;
    taken_.store(next_row_);
    if (builder_waiting_.load() && i + kAhead / 2 >= built_.load()) {
      std::lock_guard lock(built_mutex_);
      builder_cv_.notify_one();
    }
    WaitBuilt(i);
    CampaignRecipient& r = rows_[i];
    Item& item = items_[i];
    if (item.error) std::rethrow_exception(item.error);
    if (item.suppressed || !item.problem.empty()) {
      r.state = item.suppressed ? RecipientState::kSkipped : RecipientState::kFailed;
      r.last_error = item.suppressed ? "suppressed" : item.problem;
      Outcome(r);
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
    const std::size_t i = IndexOf(*d);
    marks.push_back({campaign_.site_id, rows_[i].id, job_id_, items_[i].built.message_id, now});
  }
  recorder_.Record(marks);
  std::vector<char> ok(group.size(), 0);
  for (std::size_t i = 0; i < group.size(); ++i) {
    items_[IndexOf(*group[i])].recorded = marks[i].recorded;
    ok[i] = marks[i].recorded ? 1 : 0;
    // Paused and resumed, or cancelled, while this lane was sending: the rows are no longer this job's.
    if (!marks[i].recorded) Stop(BatchEnd::Kind::kStopped);
  }
  return ok;
}

void CampaignBatch::Done(const Delivery& delivery, DeliveryResult result) {
  const std::size_t i = IndexOf(delivery);
  Item& item = items_[i];
  CampaignRecipient& r = rows_[i];
  // Recorded even after a stop: a row this job no longer holds is left alone by RecordOutcomes.
  r.attempts += 1;
  r.message_id = item.built.message_id;
  r.provider_id = result.provider_message_id;
  std::optional<std::int64_t> retry_at;
  switch (result.outcome) {
    case DeliveryOutcome::kSent:
      if (!item.recorded) {  // a transport that did not commit: record it now
        service_.db().Write([&](soci::session& s) {
          campaign_store::MarkSent(s, campaign_.site_id, r.id, job_id_, item.built.message_id, service_.Now());
        });
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
  item.message = {};  // what was sent is not needed any more (a batch holds hundreds of messages)
  item.built = {};
  if (errors_in_a_row_ >= kPauseAfterErrors) {
    Stop(BatchEnd::Kind::kPause,
         "paused after " + std::to_string(errors_in_a_row_) + " failures in a row; the last: " + result.answer);
  }
}

}  // namespace poste::mail
