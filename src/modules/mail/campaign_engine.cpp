#include "modules/mail/campaign_engine.hpp"

#include <soci/soci.h>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"

namespace poste::mail {

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
    campaign_store::ReleaseClaims(s, lane.site_id, lane.campaign_id, job_id);
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
    const auto counts = campaign_store::CountRecipients(s, c->site_id, c->id);
    if (counts.pending == 0 && counts.sending == 0) {
      c->state = CampaignState::kFinished;
      c->finished_at = c->updated_at = service_.Now();
      campaign_store::UpdateCampaign(s, *c);
      return;
    }
    // Pending rows wait for their retry time, or another lane was claiming them (PostgreSQL's SKIP
    // LOCKED passed over them): come back then. Rows other lanes hold are theirs to finish.
    if (counts.pending > 0) {
      retry_at = campaign_store::NextRetryAt(s, c->site_id, c->id).value_or(service_.Now() + 1000);
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
  // Paused, cancelled or gone; or resumed since this chain was queued (the new run has its own lanes).
  const auto current = [&](const std::optional<Campaign>& c) {
    return c && c->state == CampaignState::kRunning && c->run == lane.run;
  };
  auto campaign =
      db.ReadValue([&](soci::session& s) { return campaign_store::GetCampaign(s, lane.site_id, lane.campaign_id); });
  CampaignSender sender;
  if (current(campaign)) {
    try {
      sender = TakeSender(*campaign, lane.lane);
    } catch (const AppError& e) {  // e.g. the account was deleted: retrying cannot help until someone acts
      return PauseFor(lane, job.id, "cannot send: " + FirstProblem(e));
    }
  }
  // This lane's share of the campaign's connections: none when fewer lanes carry them all.
  const int per_lane = sender.transport ? std::max(1, sender.transport->MaxConnections()) : 1;
  const int connections = campaign ? std::min(per_lane, campaign->parallel - lane.lane * per_lane) : 0;
  // Claims the rows after `after_id`, if the campaign still runs as this chain's run (nullopt when not).
  // Called here first, then by the batch's builder while the lane sends.
  const std::string domain = MessageIdDomain(sender.from);
  const ClaimRows claim = [&db, &lane, &job, &current, &domain, connections,
                           this](std::int64_t after_id) -> std::optional<std::vector<CampaignRecipient>> {
    bool claimed = false;
    db.Write([&](soci::session& s) {
      const auto now = campaign_store::GetCampaign(s, lane.site_id, lane.campaign_id, true);
      if (!current(now) || connections <= 0) return;
      campaign_store::Claim(s, lane.site_id, lane.campaign_id, job.id, options_.batch_size, service_.Now(), after_id,
                            domain);
      claimed = true;
    });
    if (!claimed) return std::nullopt;
    return db.ReadValue([&](soci::session& s) {
      return campaign_store::ClaimedRows(s, lane.site_id, lane.campaign_id, job.id, after_id, options_.batch_size);
    });
  };
  const auto release = [&] {
    db.Write([&](soci::session& s) { campaign_store::ReleaseClaims(s, lane.site_id, lane.campaign_id, job.id); });
  };
  auto rows = claim(0);
  if (!rows) {
    release();
    DropSender(lane);  // a kept connection would stay open until the process ends
    return;
  }
  if (rows->empty()) return FinishOrWait(lane, job);
  // One job sends claim after claim for a while (a new job for each claim cost a pause of the connections),
  // then queues the next, so that other jobs get their turn.
  std::optional<CampaignBatch> batch;
  try {
    batch.emplace(service_, recorder_, options_, *campaign, job.id, sender, std::move(*rows), claim,
                  std::chrono::steady_clock::now() + options_.job_slice);
  } catch (const AppError& e) {  // e.g. the site lost its domain: retrying cannot help until someone acts
    return PauseFor(lane, job.id, "cannot send: " + FirstProblem(e));
  }
  sender.transport->SendAll(*batch, connections);
  batch->Close();
  const BatchEnd end = batch->end();
  batch.reset();
  if (end.kind == BatchEnd::Kind::kPause) return PauseFor(lane, job.id, end.reason);
  // Rows still held: claimed ahead and not handed out, or left by an early stop.
  release();
  switch (end.kind) {
    case BatchEnd::Kind::kDone:
      KeepSender(*campaign, lane.lane, std::move(sender));
      return QueueNext(lane, job, service_.Now(), "next");
    case BatchEnd::Kind::kDrained:
      return FinishOrWait(lane, job);
    case BatchEnd::Kind::kLimits:
      KeepSender(*campaign, lane.lane, std::move(sender));
      return QueueNext(lane, job, service_.Now() + end.wait_ms, "limits");
    case BatchEnd::Kind::kStopped:
    case BatchEnd::Kind::kPause:
      return;
  }
}

}  // namespace poste::mail
