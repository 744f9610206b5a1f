#include "modules/mail/mail_bounce_store.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "db/query.hpp"

namespace poste::mail::bounce_store {

namespace {

using db::Query;

constexpr const char* kColumns =
    "id, site_id, email, kind, source, message_id, campaign_id, recipient_id, status, detail, occurred_at, "
    "created_at";

struct Row {
  long long id = 0, site_id = 0, message_id = 0, campaign_id = 0, recipient_id = 0, occurred_at = 0, created_at = 0;
  soci::indicator message_ind = soci::i_null, campaign_ind = soci::i_null, recipient_ind = soci::i_null;
  std::string kind;
  BounceRecord b;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(b.email);
    q.Into(kind);
    q.Into(b.source);
    q.Into(message_id, message_ind);
    q.Into(campaign_id, campaign_ind);
    q.Into(recipient_id, recipient_ind);
    q.Into(b.status);
    q.Into(b.detail);
    q.Into(occurred_at);
    q.Into(created_at);
  }
  BounceRecord Get() const {
    BounceRecord out = b;
    out.id = id, out.site_id = site_id, out.occurred_at = occurred_at, out.created_at = created_at;
    out.kind = ParseBounceKind(kind).value_or(BounceKind::kSoft);
    if (message_ind == soci::i_ok) out.message_id = message_id;
    if (campaign_ind == soci::i_ok) out.campaign_id = campaign_id;
    if (recipient_ind == soci::i_ok) out.recipient_id = recipient_id;
    return out;
  }
};

std::string Bare(const std::string& id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') return id.substr(1, id.size() - 2);
  return id;
}

// The first (id, campaign) of `sql_from_where` + "= value" for the two spellings of a Message-ID.
bool FindMessage(soci::session& s, std::int64_t site_id, const std::string& column, const std::string& value,
                 SentRef& out) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  if (q.Execute("SELECT id FROM mail_messages WHERE site_id = " + q.Int(site_id) + " AND " + column + " IN (" +
                q.Text(value) + ", " + q.Text("<" + value + ">") + ") ORDER BY id LIMIT 1")) {
    out.message_id = id;
    return true;
  }
  return false;
}

bool FindRecipient(soci::session& s, std::int64_t site_id, const std::string& column, const std::string& value,
                   SentRef& out) {
  Query q(s);
  long long id = 0, campaign = 0;
  q.Into(id);
  q.Into(campaign);
  if (q.Execute("SELECT id, campaign_id FROM mail_campaign_recipients WHERE site_id = " + q.Int(site_id) + " AND " +
                column + " IN (" + q.Text(value) + ", " + q.Text("<" + value + ">") + ") ORDER BY id LIMIT 1")) {
    out.recipient_id = id;
    out.campaign_id = campaign;
    return true;
  }
  return false;
}

}  // namespace

std::optional<std::int64_t> InsertIfNew(soci::session& s, const BounceRecord& b, const std::string& dedupe_key,
                                        std::int64_t now_ms) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  if (!q.Execute("INSERT INTO mail_bounces (site_id, email, kind, source, message_id, campaign_id, recipient_id,"
                 " status, detail, dedupe_key, occurred_at, created_at) VALUES (" +
                 q.Int(b.site_id) + ", " + q.Text(b.email) + ", " + q.Text(std::string(BounceKindName(b.kind))) + ", " +
                 q.Text(b.source) + ", " + q.Int(b.message_id) + ", " + q.Int(b.campaign_id) + ", " +
                 q.Int(b.recipient_id) + ", " + q.Text(b.status) + ", " + q.Text(b.detail) + ", " + q.Text(dedupe_key) +
                 ", " + q.Int(b.occurred_at) + ", " + q.Int(now_ms) +
                 ") ON CONFLICT (site_id, dedupe_key) DO NOTHING RETURNING id")) {
    return std::nullopt;
  }
  return id;
}

bool Exists(soci::session& s, std::int64_t site_id, const std::string& dedupe_key) {
  const long long site = site_id;
  int one = 0;
  s << "SELECT 1 FROM mail_bounces WHERE site_id = :site AND dedupe_key = :k", soci::use(site), soci::use(dedupe_key),
      soci::into(one);
  return s.got_data();
}

std::optional<BounceRecord> Get(soci::session& s, std::int64_t site_id, std::int64_t id) {
  Query q(s);
  Row row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kColumns) + " FROM mail_bounces WHERE site_id = " + q.Int(site_id) +
                 " AND id = " + q.Int(id))) {
    return std::nullopt;
  }
  return row.Get();
}

BouncePage List(soci::session& s, std::int64_t site_id, const BounceFilter& f) {
  const int limit = std::clamp(f.limit, 1, kMaxBounceListLimit);
  Query q(s);
  Row row;
  row.BindTo(q);
  std::string sql = "SELECT " + std::string(kColumns) + " FROM mail_bounces WHERE site_id = " + q.Int(site_id);
  if (f.kind) sql += " AND kind = " + q.Text(std::string(BounceKindName(*f.kind)));
  if (f.campaign_id) sql += " AND campaign_id = " + q.Int(*f.campaign_id);
  return db::NewestFirst<BouncePage>(q, std::move(sql), f.cursor, limit, [&] { return row.Get(); });
}

SentRef FindSent(soci::session& s, std::int64_t site_id, const std::string& header_message_id,
                 const std::string& provider_message_id) {
  SentRef out;
  const auto header = Bare(header_message_id);
  if (!header.empty()) {
    if (FindMessage(s, site_id, "message_id", header, out) || FindRecipient(s, site_id, "message_id", header, out)) {
      return out;
    }
  }
  if (!provider_message_id.empty()) {
    if (FindMessage(s, site_id, "provider_message_id", provider_message_id, out) ||
        FindRecipient(s, site_id, "provider_id", provider_message_id, out)) {
      return out;
    }
  }
  return out;
}

std::optional<BounceMailbox> GetMailbox(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long account = 0, created = 0, updated = 0;
  s << "SELECT inbox_account_id, created_at, updated_at FROM mail_bounce_mailboxes WHERE site_id = :site",
      soci::use(site), soci::into(account), soci::into(created), soci::into(updated);
  if (!s.got_data()) return std::nullopt;
  return BounceMailbox{site_id, account, created, updated};
}

std::optional<std::int64_t> SiteOfMailbox(soci::session& s, std::int64_t inbox_account_id) {
  const long long account = inbox_account_id;
  long long site = 0;
  s << "SELECT site_id FROM mail_bounce_mailboxes WHERE inbox_account_id = :a", soci::use(account), soci::into(site);
  if (!s.got_data()) return std::nullopt;
  return site;
}

void PutMailbox(soci::session& s, std::int64_t site_id, std::int64_t inbox_account_id, std::int64_t now_ms) {
  const long long site = site_id, account = inbox_account_id, now = now_ms;
  s << "INSERT INTO mail_bounce_mailboxes (site_id, inbox_account_id, created_at, updated_at)"
       " VALUES (:site, :account, :now, :now2) ON CONFLICT (site_id) DO UPDATE SET"
       " inbox_account_id = excluded.inbox_account_id, updated_at = excluded.updated_at",
      soci::use(site), soci::use(account), soci::use(now), soci::use(now);
}

bool DeleteMailbox(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long matched = 0;
  s << "DELETE FROM mail_bounce_mailboxes WHERE site_id = :site RETURNING site_id", soci::use(site),
      soci::into(matched);
  return s.got_data();
}

}  // namespace poste::mail::bounce_store
