#include "modules/mail/campaign_engine.hpp"

#include <soci/soci.h>

#include <set>
#include <thread>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/mail/address.hpp"
#include "lib/mail/mime_stencil.hpp"

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

CampaignEngine::CampaignEngine(CampaignService& service, jobs::JobQueue& queue, CampaignEngineOptions options)
    : service_(service), queue_(queue), options_(options), recorder_(service.db()) {}

CampaignSender CampaignEngine::TakeSender(const Campaign& c, int lane) {
  {
    std::lock_guard lock(senders_mutex_);
    auto it = senders_.find({c.id, lane});
    if (it != senders_.end()) {
      auto sender = std::move(it->second);
      senders_.erase(it);
      return sender;
    }
  }
  return service_.hooks().open_account(c.site_id, c.account_id);
}

void CampaignEngine::KeepSender(const Campaign& c, int lane, CampaignSender sender) {
  std::lock_guard lock(senders_mutex_);
  senders_[{c.id, lane}] = std::move(sender);
}

void CampaignEngine::QueueNext(const Lane& lane, const jobs::Job& job, std::int64_t run_at_ms, const char* why) {
  jobs::EnqueueOptions options;
  options.run_at_ms = run_at_ms;
  options.max_attempts = 1000;
  // The job re-run after a crash queues the same successor, not a second one.
  options.idempotency_key = "campaign:" + std::to_string(lane.campaign_id) + ":" + why + ":" + std::to_string(job.id);
  queue_.Enqueue(
      kCampaignBatchJobKind,
      nlohmann::json{
          {"site_id", lane.site_id}, {"campaign_id", lane.campaign_id}, {"lane", lane.lane}, {"run", lane.run}}
          .dump(),
      options);
}

void CampaignEngine::PauseFor(const Lane& lane, std::int64_t job_id, const std::string& reason) {
  service_.db().Write([&](soci::session& s) {
    auto c = campaign_store::GetCampaign(s, lane.site_id, lane.campaign_id, true);
    campaign_store::ReleaseClaims(s, lane.campaign_id, job_id);
    if (!c || c->state != CampaignState::kRunning) return;
    c->state = CampaignState::kPaused;
    c->paused_reason = reason.substr(0, 500);
    c->updated_at = service_.Now();
    campaign_store::UpdateCampaign(s, *c);
  });
}

void CampaignEngine::FinishOrWait(const Lane& lane, const jobs::Job& job) {
  std::optional<std::int64_t> retry_at;
  service_.db().Write([&](soci::session& s) {
    auto c = campaign_store::GetCampaign(s, lane.site_id, lane.campaign_id, true);
    if (!c || c->state != CampaignState::kRunning) return;
    const auto counts = campaign_store::CountRecipients(s, c->id);
    if (counts.pending == 0 && counts.sending == 0) {
      c->state = CampaignState::kFinished;
      c->finished_at = c->updated_at = service_.Now();
      campaign_store::UpdateCampaign(s, *c);
      return;
    }
    // Pending rows wait for their retry time, or another lane was claiming them (PostgreSQL's SKIP
    // LOCKED passed over them): come back then. Rows other lanes hold are theirs to finish.
    if (counts.pending > 0) {
      retry_at = campaign_store::NextRetryAt(s, c->id).value_or(service_.Now() + 1000);
    }
  });
  if (retry_at) QueueNext(lane, job, *retry_at, "retry");
  DropSender(lane);
}

void CampaignEngine::DropSender(const Lane& lane) {
  std::lock_guard lock(senders_mutex_);
  senders_.erase({lane.campaign_id, lane.lane});
}

void CampaignEngine::HandleBatch(const jobs::Job& job) {
  const auto payload = nlohmann::json::parse(job.payload, nullptr, false);
  if (!payload.is_object() || !payload.value("campaign_id", nlohmann::json()).is_number_integer()) {
    throw jobs::PermanentError("bad campaign batch payload");
  }
  const Lane lane{payload.value("site_id", std::int64_t{0}), payload.value("campaign_id", std::int64_t{0}),
                  payload.value("lane", 0), payload.value("run", 0)};
  auto& db = service_.db();
  const auto& hooks = service_.hooks();

  std::optional<Campaign> campaign;
  std::vector<CampaignRecipient> rows;
  db.Write([&](soci::session& s) {
    campaign = campaign_store::GetCampaign(s, lane.site_id, lane.campaign_id, true);
    // Paused, cancelled or gone; or resumed since this chain was queued (the new run has its own lanes).
    if (!campaign || campaign->state != CampaignState::kRunning || campaign->run != lane.run) {
      if (campaign) campaign_store::ReleaseClaims(s, lane.campaign_id, job.id);
      campaign.reset();
      return;
    }
    rows = campaign_store::Claim(s, campaign->id, job.id, options_.batch_size, service_.Now());
  });
  if (!campaign) {
    DropSender(lane);  // a kept connection would stay open until the process ends
    return;
  }
  if (rows.empty()) return FinishOrWait(lane, job);
  const Campaign& c = *campaign;

  std::optional<CompiledTemplate> compiled;
  CampaignSender sender;
  std::function<UnsubscribeLinks(const std::string&)> unsubscribe_links;
  std::function<std::string(const std::string&, const std::string&)> dkim_sign;
  std::optional<MessageStencil> stencil;  // From, Date and the MIME frame of this batch's messages, written once
  const std::vector<std::pair<std::string, std::string>> stencil_headers{{"X-Poste-Campaign", std::to_string(c.id)}};
  try {
    compiled = CompiledTemplate::CompileForSending({c.subject, c.html, c.text});
    sender = TakeSender(c, lane.lane);
    // e.g. the site lost its domain: retrying cannot help until someone acts
    if (hooks.unsubscribe_linker) unsubscribe_links = hooks.unsubscribe_linker(c.site_id, c.id);
    if (hooks.dkim_signer) dkim_sign = hooks.dkim_signer(c.site_id);
    OutgoingMessage common;
    common.from = sender.from;
    common.headers = stencil_headers;
    stencil.emplace(common);
  } catch (const AppError& e) {
    return PauseFor(lane, job.id, "cannot send: " + FirstProblem(e));
  }

  // Outcomes are written together (sent rows are already recorded as sent by MarkSent); a crash before a
  // flush only loses provider ids and answers, never a state that matters.
  std::vector<campaign_store::RecipientOutcome> outcomes;
  auto flush = [&] {
    if (outcomes.empty()) return;
    db.Write([&](soci::session& s) { campaign_store::RecordOutcomes(s, outcomes, job.id); });
    outcomes.clear();
  };
  auto stop = [&](const std::string& pause_reason) {
    flush();
    if (pause_reason.empty()) {
      db.Write([&](soci::session& s) { campaign_store::ReleaseClaims(s, lane.campaign_id, job.id); });
    } else {
      PauseFor(lane, job.id, pause_reason);
    }
  };
  std::set<std::string> suppressed;
  if (hooks.suppressed_among) {
    std::vector<std::string> emails;
    for (const auto& r : rows) emails.push_back(r.email);
    for (auto& e : hooks.suppressed_among(c.site_id, emails)) suppressed.insert(std::move(e));
  }
  const std::string domain = DomainOf(sender.from.email);
  const std::string envelope_from = AsciiAddress(sender.from.email);
  auto last_check = std::chrono::steady_clock::now();
  auto last_flush = last_check;
  int errors_in_a_row = 0;

  for (auto& r : rows) {
    const auto tick = std::chrono::steady_clock::now();
    if (tick - last_check >= options_.state_check) {
      last_check = tick;
      const auto state = db.ReadValue([&](soci::session& s) {
        auto now = campaign_store::GetCampaign(s, lane.site_id, lane.campaign_id);
        return now ? now->state : CampaignState::kCancelled;
      });
      if (state != CampaignState::kRunning) return stop("");
    }
    if (tick - last_flush >= options_.flush_interval) {
      last_flush = tick;
      flush();
    }
    if (suppressed.count(r.email) != 0) {
      r.state = RecipientState::kSkipped;
      r.last_error = "suppressed";
      outcomes.emplace_back(r, std::nullopt);
      continue;
    }
    OutgoingMessage m;  // whole, for transports that send its fields (SendGrid) rather than its bytes
    m.from = sender.from;
    m.headers = stencil_headers;
    m.to = {{r.name, r.email}};
    auto content = compiled->Render(RecipientVariables(r));
    m.subject = std::move(content.subject);
    m.html = std::move(content.html);
    m.text = std::move(content.text);
    BuiltMessage built;
    try {
      if (unsubscribe_links) {
        auto links = unsubscribe_links(r.email);
        m.list_unsubscribe_url = std::move(links.url);
        m.list_unsubscribe_mailto = std::move(links.mailto);
      }
      // The same id for every try of this recipient: a receiver that got it twice can tell.
      m.message_id = "c" + std::to_string(c.id) + "." + std::to_string(r.id) + "@" + domain;
      built = stencil->Build(m);
      if (dkim_sign) built.bytes.insert(0, dkim_sign(m.from.email, built.bytes));
    } catch (const AppError& e) {
      r.state = RecipientState::kFailed;
      r.last_error = FirstProblem(e);
      outcomes.emplace_back(r, std::nullopt);
      continue;
    }
    for (;;) {
      const auto wait = sender.reserve ? sender.reserve() : 0;
      if (wait <= 0) break;
      if (wait > options_.max_inline_wait_ms) {
        stop("");
        KeepSender(c, lane.lane, std::move(sender));
        return QueueNext(lane, job, service_.Now() + wait, "limits");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(wait));
    }
    Delivery delivery;
    delivery.message = &m;
    delivery.built = &built;
    delivery.envelope_from = envelope_from;
    delivery.recipients = EnvelopeRecipients(m);
    bool recorded = false, lost_claim = false;
    delivery.on_commit = [&] {
      recorded = recorder_.Record(r.id, job.id, built.message_id, service_.Now());
      lost_claim = !recorded;
      return recorded;
    };
    const auto result = sender.transport->Send(delivery);
    if (lost_claim) return stop("");  // paused and resumed, or cancelled, while this lane was sending
    r.attempts += 1;
    r.message_id = built.message_id;
    r.provider_id = result.provider_message_id;
    std::optional<std::int64_t> retry_at;
    switch (result.outcome) {
      case DeliveryOutcome::kSent:
        if (!recorded) {  // a transport that did not call on_commit: record it now
          db.Write(
              [&](soci::session& s) { campaign_store::MarkSent(s, r.id, job.id, built.message_id, service_.Now()); });
        }
        r.state = RecipientState::kSent;
        r.sent_at = service_.Now();
        r.last_error.clear();
        errors_in_a_row = 0;
        break;
      case DeliveryOutcome::kPermanent:
        r.state = RecipientState::kFailed;
        r.last_error = result.answer;
        ++errors_in_a_row;
        break;
      case DeliveryOutcome::kTemporary:
        r.last_error = result.answer;
        if (r.attempts >= kMaxRecipientAttempts) {
          r.state = RecipientState::kFailed;
        } else {
          r.state = RecipientState::kPending;
          retry_at = service_.Now() + jobs::JobQueue::RetryDelayMs(r.attempts, 0);
        }
        ++errors_in_a_row;
        break;
    }
    outcomes.emplace_back(r, retry_at);
    if (errors_in_a_row >= kPauseAfterErrors) {
      return stop("paused after " + std::to_string(errors_in_a_row) + " failures in a row; the last: " + result.answer);
    }
  }
  flush();
  KeepSender(c, lane.lane, std::move(sender));
  QueueNext(lane, job, service_.Now(), "next");
}

}  // namespace poste::mail
