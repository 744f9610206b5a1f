#include "modules/mail/campaign_service.hpp"

#include <soci/soci.h>

#include <chrono>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/mail/mail_message_time.hpp"

namespace poste::mail {
namespace {

AppError NoCampaign() { return AppError::NotFound("No such campaign."); }

AppError WrongState(const Campaign& c, std::string_view wanted) {
  return AppError::Conflict("The campaign is " + std::string(CampaignStateName(c.state)) + "; this needs it " +
                            std::string(wanted) + ".");
}

}  // namespace

nlohmann::json RecipientVariables(const CampaignRecipient& r) {
  nlohmann::json vars = r.variables.is_object() ? r.variables : nlohmann::json::object();
  if (!vars.contains("email")) vars["email"] = r.email;
  if (!vars.contains("name")) vars["name"] = r.name;
  return vars;
}

CampaignService::CampaignService(db::Database& db, jobs::JobQueue& queue, CampaignHooks hooks)
    : db_(db), queue_(queue), hooks_(std::move(hooks)) {}

std::int64_t CampaignService::Now() const {
  if (hooks_.now_ms) return hooks_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Campaign CampaignService::Load(soci::session& s, std::int64_t site_id, std::int64_t id, bool lock) {
  auto c = campaign_store::GetCampaign(s, site_id, id, lock);
  if (!c) throw NoCampaign();
  c->counts = campaign_store::CountRecipients(s, c->site_id, c->id);
  return *c;
}

TemplateSource CampaignService::Content(const Campaign& c) const {
  if (c.template_id) return hooks_.load_template(c.site_id, *c.template_id);
  return {c.subject, c.html, c.text};
}

Campaign CampaignService::Create(const audit::Origin& origin, std::int64_t site_id, const CampaignInput& input) {
  Campaign c;
  c.site_id = site_id;
  c.name = input.name.value_or("");
  c.account_id = input.account_id.value_or(std::nullopt);
  c.template_id = input.template_id.value_or(std::nullopt);
  c.subject = input.subject.value_or("");
  c.html = input.html.value_or("");
  c.text = input.text.value_or("");
  c.parallel = input.parallel.value_or(kDefaultCampaignParallel);
  if (!c.template_id) CompiledTemplate::Compile({c.subject, c.html, c.text});  // 422 on a syntax error
  if (c.template_id) hooks_.load_template(site_id, *c.template_id);            // 404 when not the site's
  c.created_by = origin.user_id;
  c.created_at = c.updated_at = Now();
  return db_.WriteValue([&](soci::session& s) {
    c.id = campaign_store::InsertCampaign(s, c);
    audit::Record(s, audit::EntryFrom(origin, "mail.campaign.create", "mail_campaign", std::to_string(c.id), site_id,
                                      {{"name", c.name}}));
    return c;
  });
}

Campaign CampaignService::Get(std::int64_t site_id, std::int64_t id) {
  return db_.ReadValue([&](soci::session& s) { return Load(s, site_id, id, false); });
}

campaign_store::CampaignPage CampaignService::List(std::int64_t site_id, std::optional<std::int64_t> cursor,
                                                   int limit) {
  return db_.ReadValue([&](soci::session& s) {
    auto page = campaign_store::ListCampaigns(s, site_id, cursor, limit);
    for (auto& c : page.items) c.counts = campaign_store::CountRecipients(s, c.site_id, c.id);
    return page;
  });
}

Campaign CampaignService::Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                                 const CampaignInput& input) {
  if (input.template_id && *input.template_id) hooks_.load_template(site_id, **input.template_id);
  return db_.WriteValue([&](soci::session& s) {
    Campaign c = Load(s, site_id, id, true);
    if (c.state != CampaignState::kDraft && c.state != CampaignState::kScheduled) throw WrongState(c, "a draft");
    if (input.name) c.name = *input.name;
    if (input.account_id) c.account_id = *input.account_id;
    if (input.template_id) c.template_id = *input.template_id;
    if (input.subject) c.subject = *input.subject;
    if (input.html) c.html = *input.html;
    if (input.text) c.text = *input.text;
    if (input.parallel) c.parallel = *input.parallel;
    if (!c.template_id) CompiledTemplate::Compile({c.subject, c.html, c.text});
    c.updated_at = Now();
    campaign_store::UpdateCampaign(s, c);
    audit::Record(s, audit::EntryFrom(origin, "mail.campaign.update", "mail_campaign", std::to_string(c.id), site_id,
                                      {{"name", c.name}}));
    return c;
  });
}

void CampaignService::Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  db_.Write([&](soci::session& s) {
    Campaign c = Load(s, site_id, id, true);
    if (c.state == CampaignState::kRunning) throw WrongState(c, "paused, cancelled or finished");
    campaign_store::DeleteCampaign(s, site_id, id);
    audit::Record(s, audit::EntryFrom(origin, "mail.campaign.delete", "mail_campaign", std::to_string(id), site_id,
                                      {{"name", c.name}}));
  });
}

ImportResult CampaignService::ImportCsv(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                                        std::string_view csv) {
  ImportResult result;
  result.import = ParseRecipientsCsv(csv);
  db_.Write([&](soci::session& s) {
    Campaign c = Load(s, site_id, id, true);
    if (c.state != CampaignState::kDraft) throw WrongState(c, "a draft");
    if (c.counts.total + static_cast<std::int64_t>(result.import.recipients.size()) >
        static_cast<std::int64_t>(kMaxCampaignRecipients)) {
      throw AppError::Validation(
          {{"file", "too_many", "a campaign has at most " + std::to_string(kMaxCampaignRecipients) + " recipients"}});
    }
    result.added = campaign_store::InsertRecipients(s, site_id, id, result.import.recipients);
    audit::Record(s, audit::EntryFrom(origin, "mail.campaign.recipients", "mail_campaign", std::to_string(id), site_id,
                                      {{"added", result.added}, {"rejected", result.import.rejected_count}}));
  });
  return result;
}

std::int64_t CampaignService::ImportContacts(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  std::vector<CsvRecipient> recipients;
  for (auto& m : hooks_.site_contacts(site_id)) {
    if (!IsValidAddress(m.email)) continue;
    CsvRecipient r;
    r.mailbox = {m.name, NormalizeAddress(m.email)};
    r.variables = {{"email", r.mailbox.email}, {"name", r.mailbox.name}};
    recipients.push_back(std::move(r));
  }
  return db_.WriteValue([&](soci::session& s) {
    Campaign c = Load(s, site_id, id, true);
    if (c.state != CampaignState::kDraft) throw WrongState(c, "a draft");
    if (c.counts.total + static_cast<std::int64_t>(recipients.size()) >
        static_cast<std::int64_t>(kMaxCampaignRecipients)) {
      throw AppError::Validation(
          {{"source", "too_many", "a campaign has at most " + std::to_string(kMaxCampaignRecipients) + " recipients"}});
    }
    const auto added = campaign_store::InsertRecipients(s, site_id, id, recipients);
    audit::Record(s, audit::EntryFrom(origin, "mail.campaign.recipients", "mail_campaign", std::to_string(id), site_id,
                                      {{"added", added}, {"source", "contacts"}}));
    return added;
  });
}

void CampaignService::ClearRecipients(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  db_.Write([&](soci::session& s) {
    Campaign c = Load(s, site_id, id, true);
    if (c.state != CampaignState::kDraft) throw WrongState(c, "a draft");
    campaign_store::DeleteRecipients(s, site_id, id);
    audit::Record(s, audit::EntryFrom(origin, "mail.campaign.recipients_cleared", "mail_campaign", std::to_string(id),
                                      site_id, nlohmann::json::object()));
  });
}

campaign_store::RecipientPage CampaignService::Recipients(std::int64_t site_id, std::int64_t id,
                                                          std::optional<RecipientState> state,
                                                          std::optional<std::int64_t> after, int limit) {
  return db_.ReadValue([&](soci::session& s) {
    if (!campaign_store::GetCampaign(s, site_id, id)) throw NoCampaign();
    return campaign_store::ListRecipients(s, site_id, id, state, after, limit);
  });
}

CampaignPreview CampaignService::Preview(std::int64_t site_id, std::int64_t id,
                                         std::optional<std::int64_t> recipient_id) {
  auto [c, recipient] = db_.ReadValue([&](soci::session& s) {
    auto c = campaign_store::GetCampaign(s, site_id, id);
    if (!c) throw NoCampaign();
    std::optional<CampaignRecipient> r = recipient_id ? campaign_store::GetRecipient(s, site_id, id, *recipient_id)
                                                      : campaign_store::FirstRecipient(s, site_id, id);
    if (recipient_id && !r) throw AppError::NotFound("No such recipient in this campaign.");
    return std::make_pair(*c, r);
  });
  const auto compiled = CompiledTemplate::Compile(Content(c));
  CampaignPreview preview;
  nlohmann::json vars = nlohmann::json::object();
  if (recipient) {
    preview.recipient_id = recipient->id;
    preview.email = recipient->email;
    vars = RecipientVariables(*recipient);
  }
  preview.missing_variables = compiled.MissingVariables(vars);
  preview.content = compiled.Render(vars);
  preview.account_id = c.account_id;
  return preview;
}

std::int64_t CampaignService::SendTest(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                                       const Mailbox& to, std::optional<std::int64_t> recipient_id) {
  auto preview = Preview(site_id, id, recipient_id);
  preview.content.subject = "[Test] " + preview.content.subject;
  return hooks_.send_test(origin, site_id, preview.account_id, to, preview.content);
}

void CampaignService::QueueLanes(soci::session& s, Campaign& c) {
  // A new run: batch jobs still queued from before a pause (a retry waiting for its time, a next batch) see
  // another run number and stop, so a lane never has two chains.
  c.run += 1;
  for (int lane = 0; lane < c.parallel; ++lane) {
    jobs::EnqueueOptions options;
    options.max_attempts = 1000;  // a lane's job is retried as long as it crashes; its rows are its checkpoint
    options.idempotency_key =
        "campaign:" + std::to_string(c.id) + ":run:" + std::to_string(c.run) + ":" + std::to_string(lane);
    queue_.EnqueueIn(
        s, kCampaignBatchJobKind,
        nlohmann::json{{"site_id", c.site_id}, {"campaign_id", c.id}, {"lane", lane}, {"run", c.run}}.dump(), options);
  }
}

Campaign CampaignService::Transition(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                                     const char* action, const std::function<void(soci::session&, Campaign&)>& change) {
  auto c = db_.WriteValue([&](soci::session& s) {
    Campaign c = Load(s, site_id, id, true);
    change(s, c);
    c.updated_at = Now();
    campaign_store::UpdateCampaign(s, c);
    c.counts = campaign_store::CountRecipients(s, c.site_id, c.id);
    audit::Record(s, audit::EntryFrom(origin, action, "mail_campaign", std::to_string(id), site_id,
                                      {{"state", CampaignStateName(c.state)}}));
    return c;
  });
  queue_.NotifyEnqueued();
  return c;
}

Campaign CampaignService::Start(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                                const std::optional<std::string>& send_at_text) {
  std::optional<std::int64_t> send_at;
  if (send_at_text) {
    std::string why;
    send_at = ParseSendAt(*send_at_text, hooks_.site_timezone ? hooks_.site_timezone(site_id) : "UTC", &why);
    if (!send_at) throw AppError::Validation({{"send_at", "invalid_format", why}});
  }
  {
    const auto c = Get(site_id, id);
    if (c.state != CampaignState::kDraft) throw WrongState(c, "a draft");
    if (c.counts.total == 0) {
      throw AppError::Validation({{"recipients", "required", "add recipients before starting the campaign"}});
    }
    const auto source = Content(c);
    if (source.subject.empty()) throw AppError::Validation({{"subject", "required", "the message needs a subject"}});
    if (source.html.empty() && source.text.empty()) {
      throw AppError::Validation({{"html", "required", "the message needs an HTML or a text body"}});
    }
    CompiledTemplate::Compile(source);
    // Now rather than in the first batch: the account must send, and every message carries unsubscribe links.
    hooks_.open_account(site_id, c.account_id);
    if (hooks_.unsubscribe_linker) hooks_.unsubscribe_linker(site_id, c.id)("check@example.com");
  }
  const auto now = Now();
  return Transition(origin, site_id, id, "mail.campaign.start", [&](soci::session& s, Campaign& c) {
    if (c.state != CampaignState::kDraft) throw WrongState(c, "a draft");
    if (c.template_id) {  // the content is fixed when the campaign leaves the draft state
      const auto source = hooks_.load_template(site_id, *c.template_id);
      c.subject = source.subject, c.html = source.html, c.text = source.text;
      c.template_id.reset();
    }
    if (send_at && *send_at > now) {
      c.state = CampaignState::kScheduled;
      c.send_at = send_at;
      jobs::EnqueueOptions options;
      options.run_at_ms = *send_at;
      options.max_attempts = 10;
      options.idempotency_key = "campaign:" + std::to_string(c.id) + ":start:" + std::to_string(*send_at);
      queue_.EnqueueIn(s, kCampaignStartJobKind, nlohmann::json{{"site_id", site_id}, {"campaign_id", c.id}}.dump(),
                       options);
      return;
    }
    c.state = CampaignState::kRunning;
    c.started_at = now;
    QueueLanes(s, c);
  });
}

void CampaignService::HandleStart(const jobs::Job& job) {
  const auto payload = nlohmann::json::parse(job.payload, nullptr, false);
  if (!payload.is_object()) throw jobs::PermanentError("bad payload");
  const auto site_id = payload.value("site_id", std::int64_t{0});
  const auto id = payload.value("campaign_id", std::int64_t{0});
  db_.Write([&](soci::session& s) {
    auto c = campaign_store::GetCampaign(s, site_id, id, true);
    if (!c || c->state != CampaignState::kScheduled) return;  // cancelled, or started by hand
    if (c->send_at && *c->send_at > Now()) return;            // rescheduled later: that job starts it
    c->state = CampaignState::kRunning;
    c->started_at = c->updated_at = Now();
    QueueLanes(s, *c);
    campaign_store::UpdateCampaign(s, *c);
  });
  queue_.NotifyEnqueued();
}

Campaign CampaignService::Pause(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  return Transition(origin, site_id, id, "mail.campaign.pause", [&](soci::session&, Campaign& c) {
    if (c.state != CampaignState::kRunning) throw WrongState(c, "running");
    c.state = CampaignState::kPaused;
    c.paused_reason = "paused by a user";
  });
}

Campaign CampaignService::Resume(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  return Transition(origin, site_id, id, "mail.campaign.resume", [&](soci::session& s, Campaign& c) {
    if (c.state != CampaignState::kPaused) throw WrongState(c, "paused");
    c.state = CampaignState::kRunning;
    c.paused_reason.clear();
    // Rows a stopped lane still held go back to the pool; a lane still finishing its message cannot record
    // it any more (MarkSent checks its claim) and aborts it before the end of its data.
    campaign_store::ReleaseAllClaims(s, c.site_id, c.id);
    QueueLanes(s, c);
  });
}

Campaign CampaignService::Cancel(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  const auto now = Now();
  return Transition(origin, site_id, id, "mail.campaign.cancel", [&](soci::session& s, Campaign& c) {
    if (c.state == CampaignState::kFinished || c.state == CampaignState::kCancelled) {
      throw WrongState(c, "not finished");
    }
    c.state = CampaignState::kCancelled;
    c.finished_at = now;
    campaign_store::ReleaseAllClaims(s, c.site_id, c.id);
  });
}

}  // namespace poste::mail
