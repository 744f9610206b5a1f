#include "modules/mail/campaign_store.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "db/dialect.hpp"
#include "db/query.hpp"
#include "lib/json_dump.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail::campaign_store {
namespace {

using db::Query;

constexpr const char* kCampaignColumns =
    "id, site_id, name, account_id, template_id, subject, html, text, state, send_at, parallel, run, paused_reason,"
    " created_by, created_at, updated_at, started_at, finished_at";

// A fetched nullable column as an optional.
std::optional<std::int64_t> Opt(long long v, soci::indicator ind) {
  return ind == soci::i_ok ? std::optional<std::int64_t>(v) : std::nullopt;
}

struct CampaignRow {
  long long id = 0, site_id = 0, account_id = 0, template_id = 0, send_at = 0, created_by = 0, created_at = 0,
            updated_at = 0, started_at = 0, finished_at = 0;
  int parallel = 0, run = 0;
  soci::indicator account_ind = soci::i_ok, template_ind = soci::i_ok, send_ind = soci::i_ok,
                  created_by_ind = soci::i_ok, started_ind = soci::i_ok, finished_ind = soci::i_ok;
  std::string state;
  Campaign c;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(c.name);
    q.Into(account_id, account_ind);
    q.Into(template_id, template_ind);
    q.Into(c.subject);
    q.Into(c.html);
    q.Into(c.text);
    q.Into(state);
    q.Into(send_at, send_ind);
    q.Into(parallel);
    q.Into(run);
    q.Into(c.paused_reason);
    q.Into(created_by, created_by_ind);
    q.Into(created_at);
    q.Into(updated_at);
    q.Into(started_at, started_ind);
    q.Into(finished_at, finished_ind);
  }
  Campaign Get() const {
    Campaign out = c;
    out.id = id, out.site_id = site_id, out.parallel = parallel, out.run = run;
    out.account_id = Opt(account_id, account_ind);
    out.template_id = Opt(template_id, template_ind);
    out.state = ParseCampaignState(state).value_or(CampaignState::kDraft);
    out.send_at = Opt(send_at, send_ind);
    out.created_by = Opt(created_by, created_by_ind);
    out.created_at = created_at, out.updated_at = updated_at;
    out.started_at = Opt(started_at, started_ind);
    out.finished_at = Opt(finished_at, finished_ind);
    return out;
  }
};

constexpr const char* kRecipientColumns =
    "id, campaign_id, site_id, line, email, name, variables, state, attempts, message_id, provider_id, last_error,"
    " sent_at";

struct RecipientRow {
  long long id = 0, campaign_id = 0, site_id = 0, line = 0, sent_at = 0;
  int attempts = 0;
  soci::indicator sent_ind = soci::i_ok;
  std::string state, variables;
  CampaignRecipient r;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(campaign_id);
    q.Into(site_id);
    q.Into(line);
    q.Into(r.email);
    q.Into(r.name);
    q.Into(variables);
    q.Into(state);
    q.Into(attempts);
    q.Into(r.message_id);
    q.Into(r.provider_id);
    q.Into(r.last_error);
    q.Into(sent_at, sent_ind);
  }
  CampaignRecipient Get() const {
    CampaignRecipient out = r;
    out.id = id, out.campaign_id = campaign_id, out.site_id = site_id, out.line = line, out.attempts = attempts;
    out.state = ParseRecipientState(state).value_or(RecipientState::kPending);
    out.variables = nlohmann::json::parse(variables, nullptr, false);  // written by this store
    if (!out.variables.is_object()) out.variables = nlohmann::json::object();
    out.sent_at = Opt(sent_at, sent_ind);
    return out;
  }
};

std::vector<CampaignRecipient> RecipientsWhere(Query& q, const std::string& where, const std::string& tail) {
  RecipientRow row;
  row.BindTo(q);
  std::vector<CampaignRecipient> out;
  if (q.Execute("SELECT " + std::string(kRecipientColumns) + " FROM mail_campaign_recipients WHERE " + where + tail)) {
    do {
      out.push_back(row.Get());
    } while (q.Fetch());
  }
  return out;
}

}  // namespace

std::int64_t InsertCampaign(soci::session& s, const Campaign& c) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  q.Execute(
      "INSERT INTO mail_campaigns (site_id, name, account_id, template_id, subject, html, text, state, send_at,"
      " parallel, paused_reason, created_by, created_at, updated_at) VALUES (" +
      q.Int(c.site_id) + ", " + q.Text(c.name) + ", " + q.Int(c.account_id) + ", " + q.Int(c.template_id) + ", " +
      q.Text(c.subject) + ", " + q.Text(c.html) + ", " + q.Text(c.text) + ", " +
      q.Text(std::string(CampaignStateName(c.state))) + ", " + q.Int(c.send_at) + ", " + q.Int(c.parallel) + ", " +
      q.Text(c.paused_reason) + ", " + q.Int(c.created_by) + ", " + q.Int(c.created_at) + ", " + q.Int(c.updated_at) +
      ") RETURNING id");
  return id;
}

std::optional<Campaign> GetCampaign(soci::session& s, std::int64_t site_id, std::int64_t id, bool lock) {
  Query q(s);
  CampaignRow row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kCampaignColumns) + " FROM mail_campaigns WHERE id = " + q.Int(id) +
                 " AND site_id = " + q.Int(site_id) + std::string(lock ? db::ForUpdate(db::DialectOf(s)) : ""))) {
    return std::nullopt;
  }
  return row.Get();
}

CampaignPage ListCampaigns(soci::session& s, std::int64_t site_id, std::optional<std::int64_t> cursor, int limit) {
  Query q(s);
  CampaignRow row;
  row.BindTo(q);
  return db::NewestFirst<CampaignPage>(
      q, "SELECT " + std::string(kCampaignColumns) + " FROM mail_campaigns WHERE site_id = " + q.Int(site_id), cursor,
      limit, [&] { return row.Get(); });
}

void UpdateCampaign(soci::session& s, const Campaign& c) {
  Query q(s);
  q.Execute("UPDATE mail_campaigns SET name = " + q.Text(c.name) + ", account_id = " + q.Int(c.account_id) +
            ", template_id = " + q.Int(c.template_id) + ", subject = " + q.Text(c.subject) +
            ", html = " + q.Text(c.html) + ", text = " + q.Text(c.text) +
            ", state = " + q.Text(std::string(CampaignStateName(c.state))) + ", send_at = " + q.Int(c.send_at) +
            ", parallel = " + q.Int(c.parallel) + ", run = " + q.Int(c.run) +
            ", paused_reason = " + q.Text(c.paused_reason) + ", updated_at = " + q.Int(c.updated_at) +
            ", started_at = " + q.Int(c.started_at) + ", finished_at = " + q.Int(c.finished_at) +
            " WHERE id = " + q.Int(c.id) + " AND site_id = " + q.Int(c.site_id));
}

void DeleteCampaign(soci::session& s, std::int64_t site_id, std::int64_t id) {
  const long long campaign = id, site = site_id;
  s << "DELETE FROM mail_campaigns WHERE id = :id AND site_id = :site", soci::use(campaign), soci::use(site);
}

std::optional<std::int64_t> NextRetryAt(soci::session& s, std::int64_t site_id, std::int64_t campaign_id) {
  const long long campaign = campaign_id, site = site_id;
  long long at = 0;
  soci::indicator ind = soci::i_null;
  s << "SELECT MIN(retry_at) FROM mail_campaign_recipients WHERE campaign_id = :c AND site_id = :site"
       " AND state = 'pending'",
      soci::use(campaign), soci::use(site), soci::into(at, ind);
  return Opt(at, ind);
}

RecipientCounts CountRecipients(soci::session& s, std::int64_t site_id, std::int64_t campaign_id) {
  const long long campaign = campaign_id, site = site_id;
  std::string state;
  long long n = 0;
  // The site is checked on the campaign's row, so that the count stays a scan of the (campaign_id, state)
  // index alone (progress is polled while the campaign sends).
  soci::statement st =
      (s.prepare << "SELECT state, COUNT(*) FROM mail_campaign_recipients WHERE campaign_id = :c"
                    " AND EXISTS (SELECT 1 FROM mail_campaigns WHERE id = :c2 AND site_id = :site) GROUP BY state",
       soci::use(campaign), soci::use(campaign), soci::use(site), soci::into(state), soci::into(n));
  st.execute();
  RecipientCounts counts;
  while (st.fetch()) {
    counts.total += n;
    switch (ParseRecipientState(state).value_or(RecipientState::kPending)) {
      case RecipientState::kPending:
        counts.pending += n;
        break;
      case RecipientState::kClaimed:
        counts.sending += n;
        break;
      case RecipientState::kSent:
        counts.sent += n;
        break;
      case RecipientState::kFailed:
        counts.failed += n;
        break;
      case RecipientState::kSkipped:
        counts.skipped += n;
        break;
    }
  }
  return counts;
}

std::int64_t InsertRecipients(soci::session& s, std::int64_t site_id, std::int64_t campaign_id,
                              const std::vector<CsvRecipient>& recipients) {
  long long site = site_id, campaign = campaign_id, line = 0;
  std::string email, key, name, variables;
  soci::statement st =
      (s.prepare << "INSERT INTO mail_campaign_recipients (campaign_id, site_id, line, email, email_key, name,"
                    " variables) VALUES (:c, :site, :line, :email, :key, :name, :vars)"
                    " ON CONFLICT (campaign_id, email_key) DO NOTHING",
       soci::use(campaign), soci::use(site), soci::use(line), soci::use(email), soci::use(key), soci::use(name),
       soci::use(variables));
  std::int64_t added = 0;
  for (const auto& r : recipients) {
    line = static_cast<long long>(r.line);
    email = r.mailbox.email;
    key = validate::ascii::ToLower(email);
    name = r.mailbox.name;
    nlohmann::json vars = nlohmann::json::object();
    for (const auto& [k, v] : r.variables) vars[k] = v;
    variables = DumpJson(vars);
    st.execute(true);
    added += st.get_affected_rows();
  }
  return added;
}

void DeleteRecipients(soci::session& s, std::int64_t site_id, std::int64_t campaign_id) {
  const long long campaign = campaign_id, site = site_id;
  s << "DELETE FROM mail_campaign_recipients WHERE campaign_id = :c AND site_id = :site", soci::use(campaign),
      soci::use(site);
}

RecipientPage ListRecipients(soci::session& s, std::int64_t site_id, std::int64_t campaign_id,
                             std::optional<RecipientState> state, std::optional<std::int64_t> after, int limit) {
  Query q(s);
  std::string where = "campaign_id = " + q.Int(campaign_id) + " AND site_id = " + q.Int(site_id);
  if (state) where += " AND state = " + q.Text(std::string(RecipientStateName(*state)));
  if (after) where += " AND id > " + q.Int(*after);
  RecipientPage page;
  page.items = RecipientsWhere(q, where, " ORDER BY id LIMIT " + std::to_string(limit + 1));
  if (page.items.size() > static_cast<std::size_t>(limit)) {
    page.items.pop_back();
    page.next_cursor = page.items.back().id;
  }
  return page;
}

std::optional<CampaignRecipient> GetRecipient(soci::session& s, std::int64_t site_id, std::int64_t campaign_id,
                                              std::int64_t id) {
  Query q(s);
  auto rows = RecipientsWhere(
      q, "campaign_id = " + q.Int(campaign_id) + " AND site_id = " + q.Int(site_id) + " AND id = " + q.Int(id), "");
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

std::optional<CampaignRecipient> FirstRecipient(soci::session& s, std::int64_t site_id, std::int64_t campaign_id) {
  Query q(s);
  auto rows = RecipientsWhere(q, "campaign_id = " + q.Int(campaign_id) + " AND site_id = " + q.Int(site_id),
                              " ORDER BY id LIMIT 1");
  if (rows.empty()) return std::nullopt;
  return rows.front();
}

void Claim(soci::session& s, std::int64_t site_id, std::int64_t campaign_id, std::int64_t job_id, int limit,
           std::int64_t now_ms, std::int64_t after_id, const std::string& message_id_domain) {
  Query q(s);
  q.Execute("UPDATE mail_campaign_recipients SET state = 'claimed', claimed_by = " + q.Int(job_id) +
            ", message_id = CASE WHEN message_id = '' THEN 'c' || CAST(campaign_id AS TEXT) || '.' ||"
            " CAST(id AS TEXT) || '@' || " +
            q.Text(message_id_domain) +
            " ELSE message_id END"
            " WHERE id IN (SELECT id FROM mail_campaign_recipients WHERE campaign_id = " +
            q.Int(campaign_id) + " AND site_id = " + q.Int(site_id) + " AND state = 'pending' AND id > " +
            q.Int(after_id) + " AND (retry_at IS NULL OR retry_at <= " + q.Int(now_ms) + ") ORDER BY id LIMIT " +
            std::to_string(std::max(limit, 0)) + std::string(db::ForUpdateSkipLocked(db::DialectOf(s))) + ")");
}

std::vector<CampaignRecipient> ClaimedRows(soci::session& s, std::int64_t site_id, std::int64_t campaign_id,
                                           std::int64_t job_id, std::int64_t after_id, int limit) {
  Query q(s);
  return RecipientsWhere(q,
                         "campaign_id = " + q.Int(campaign_id) + " AND site_id = " + q.Int(site_id) +
                             " AND state = 'claimed' AND claimed_by = " + q.Int(job_id) + " AND id > " +
                             q.Int(after_id),
                         " ORDER BY id LIMIT " + std::to_string(std::max(limit, 0)));
}

bool MarkSent(soci::session& s, std::int64_t site_id, std::int64_t recipient_id, std::int64_t job_id,
              std::int64_t now_ms) {
  SentMark mark{site_id, recipient_id, job_id, now_ms};
  MarkSent(s, {&mark});
  return mark.recorded;
}

namespace {

// MarkSent's statement and the variables it is bound to (not movable: the statement holds their addresses).
struct MarkStatement {
  explicit MarkStatement(soci::session& s)
      : session(&s),
        st((s.prepare << "UPDATE mail_campaign_recipients SET state = 'sent', sent_at = :now,"
                         " attempts = attempts + 1, last_error = ''"
                         " WHERE id = :id AND site_id = :site AND state = 'claimed' AND claimed_by = :job",
            soci::use(now), soci::use(id), soci::use(site), soci::use(job))) {}
  void Mark(const std::vector<SentMark*>& marks) {
    for (SentMark* mark : marks) {
      site = mark->site_id;
      id = mark->recipient_id;
      job = mark->job_id;
      now = mark->now_ms;
      st.execute(true);
      mark->recorded = st.get_affected_rows() == 1;
    }
  }
  soci::session* session;
  long long site = 0, id = 0, job = 0, now = 0;
  soci::statement st;
};

}  // namespace

struct SentMarker::Prepared : MarkStatement {
  using MarkStatement::MarkStatement;
};

SentMarker::SentMarker() = default;
SentMarker::~SentMarker() = default;

void SentMarker::Mark(soci::session& s, const std::vector<SentMark*>& marks) {
  if (marks.empty()) return;
  if (db::DialectOf(s) != db::Dialect::kSqlite) return MarkSent(s, marks);
  if (!prepared_ || prepared_->session != &s) prepared_ = std::make_unique<Prepared>(s);
  prepared_->Mark(marks);
}

void MarkSent(soci::session& s, const std::vector<SentMark*>& marks) {
  if (marks.empty()) return;
  MarkStatement(s).Mark(marks);
}

void RecordOutcomes(soci::session& s, const std::vector<RecipientOutcome>& outcomes, std::int64_t job_id) {
  if (outcomes.empty()) return;
  long long id = 0, campaign = 0, site = 0, sent = 0, retry = 0;
  const long long job = job_id;
  int attempts = 0;
  std::string state, message_id, provider_id, last_error;
  soci::indicator sent_ind = soci::i_null, retry_ind = soci::i_null;
  soci::statement st =
      (s.prepare << "UPDATE mail_campaign_recipients SET state = :state, claimed_by = NULL, attempts = :attempts,"
                    " message_id = :mid, provider_id = :pid, last_error = :err, sent_at = :sent, retry_at = :retry"
                    " WHERE id = :id AND campaign_id = :c AND site_id = :site AND claimed_by = :job",
       soci::use(state), soci::use(attempts), soci::use(message_id), soci::use(provider_id), soci::use(last_error),
       soci::use(sent, sent_ind), soci::use(retry, retry_ind), soci::use(id), soci::use(campaign), soci::use(site),
       soci::use(job));
  // A sent row already has its state, message id, time, attempts and answer (MarkSent): only a provider's id
  // is left to write (setting the rest again would rewrite the row and its indexes for each message).
  soci::statement sent_with_id_st =
      (s.prepare << "UPDATE mail_campaign_recipients SET claimed_by = NULL, attempts = :attempts, last_error = '',"
                    " provider_id = :pid WHERE id = :id AND campaign_id = :c AND site_id = :site AND claimed_by = :job"
                    " AND state = 'sent'",
       soci::use(attempts), soci::use(provider_id), soci::use(id), soci::use(campaign), soci::use(site),
       soci::use(job));
  for (const auto& [r, retry_at] : outcomes) {
    id = r.id;
    campaign = r.campaign_id;
    site = r.site_id;
    attempts = r.attempts;
    state = RecipientStateName(r.state);
    message_id = r.message_id;
    provider_id = r.provider_id;
    last_error = r.last_error;
    sent = r.sent_at.value_or(0);
    sent_ind = r.sent_at ? soci::i_ok : soci::i_null;
    retry = retry_at.value_or(0);
    retry_ind = retry_at ? soci::i_ok : soci::i_null;
    if (r.state == RecipientState::kSent) {
      if (!provider_id.empty()) sent_with_id_st.execute(true);
    } else {
      st.execute(true);
    }
  }
}

void ReleaseClaims(soci::session& s, std::int64_t site_id, std::int64_t campaign_id, std::int64_t job_id) {
  const long long campaign = campaign_id, site = site_id, job = job_id;
  s << "UPDATE mail_campaign_recipients SET state = 'pending', claimed_by = NULL"
       " WHERE campaign_id = :c AND site_id = :site AND state = 'claimed' AND claimed_by = :job",
      soci::use(campaign), soci::use(site), soci::use(job);
}

void ReleaseAllClaims(soci::session& s, std::int64_t site_id, std::int64_t campaign_id) {
  const long long campaign = campaign_id, site = site_id;
  s << "UPDATE mail_campaign_recipients SET state = 'pending', claimed_by = NULL"
       " WHERE campaign_id = :c AND site_id = :site AND state = 'claimed'",
      soci::use(campaign), soci::use(site);
}

}  // namespace poste::mail::campaign_store
