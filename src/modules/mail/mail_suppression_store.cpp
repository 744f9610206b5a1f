#include "modules/mail/mail_suppression_store.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "db/dialect.hpp"
#include "db/like.hpp"
#include "db/query.hpp"

namespace poste::mail::suppression_store {

namespace {

using db::Query;

constexpr const char* kColumns =
    "id, site_id, email, reason, source, detail, campaign_id, created_by, created_at, updated_at";
constexpr std::size_t kInChunk = 500;  // addresses per IN (...) list

struct Row {
  long long id = 0, site_id = 0, campaign_id = 0, created_by = 0, created_at = 0, updated_at = 0;
  soci::indicator campaign_ind = soci::i_null, created_by_ind = soci::i_null;
  std::string reason;
  Suppression e;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(e.email);
    q.Into(reason);
    q.Into(e.source);
    q.Into(e.detail);
    q.Into(campaign_id, campaign_ind);
    q.Into(created_by, created_by_ind);
    q.Into(created_at);
    q.Into(updated_at);
  }
  Suppression Get() const {
    Suppression out = e;
    out.id = id, out.site_id = site_id, out.created_at = created_at, out.updated_at = updated_at;
    out.reason = ParseReason(reason).value_or(SuppressionReason::kManual);
    if (campaign_ind == soci::i_ok) out.campaign_id = campaign_id;
    if (created_by_ind == soci::i_ok) out.created_by = created_by;
    return out;
  }
};

std::optional<Suppression> GetWhere(soci::session& s, std::int64_t site_id, const std::optional<std::int64_t>& id,
                                    const std::string* email) {
  Query q(s);
  Row row;
  row.BindTo(q);
  std::string sql = "SELECT " + std::string(kColumns) + " FROM mail_suppressions WHERE site_id = " + q.Int(site_id);
  sql += id ? " AND id = " + q.Int(*id) : " AND email = " + q.Text(*email);
  if (!q.Execute(sql)) return std::nullopt;
  return row.Get();
}

}  // namespace

std::optional<std::int64_t> InsertIfAbsent(soci::session& s, const Suppression& e, std::int64_t now_ms) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  const std::string reason(ReasonName(e.reason));
  if (!q.Execute("INSERT INTO mail_suppressions (site_id, email, reason, source, detail, campaign_id, created_by,"
                 " created_at, updated_at) VALUES (" +
                 q.Int(e.site_id) + ", " + q.Text(e.email) + ", " + q.Text(reason) + ", " + q.Text(e.source) + ", " +
                 q.Text(e.detail) + ", " + q.Int(e.campaign_id) + ", " + q.Int(e.created_by) + ", " + q.Int(now_ms) +
                 ", " + q.Int(now_ms) + ") ON CONFLICT (site_id, email) DO NOTHING RETURNING id")) {
    return std::nullopt;
  }
  return id;
}

std::optional<Suppression> Get(soci::session& s, std::int64_t site_id, std::int64_t id) {
  return GetWhere(s, site_id, id, nullptr);
}

std::optional<Suppression> GetByEmail(soci::session& s, std::int64_t site_id, const std::string& email) {
  return GetWhere(s, site_id, std::nullopt, &email);
}

bool Contains(soci::session& s, std::int64_t site_id, const std::string& email) {
  const long long site = site_id;
  int one = 0;
  s << "SELECT 1 FROM mail_suppressions WHERE site_id = :site AND email = :email", soci::use(site), soci::use(email),
      soci::into(one);
  return s.got_data();
}

std::vector<std::string> ContainedAmong(soci::session& s, std::int64_t site_id,
                                        const std::vector<std::string>& emails) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start < emails.size(); start += kInChunk) {
    const auto end = std::min(emails.size(), start + kInChunk);
    Query q(s);
    std::string email;
    q.Into(email);
    std::string list;
    for (auto i = start; i < end; ++i) list += (list.empty() ? "" : ", ") + q.Text(emails[i]);
    if (!q.Execute("SELECT email FROM mail_suppressions WHERE site_id = " + q.Int(site_id) + " AND email IN (" + list +
                   ")")) {
      continue;
    }
    do {
      out.push_back(email);
    } while (q.Fetch());
  }
  return out;
}

SuppressionPage List(soci::session& s, std::int64_t site_id, const SuppressionFilter& f) {
  const int limit = std::clamp(f.limit, 1, kMaxSuppressionListLimit);
  Query q(s);
  Row row;
  row.BindTo(q);
  std::string sql = "SELECT " + std::string(kColumns) + " FROM mail_suppressions WHERE site_id = " + q.Int(site_id);
  if (f.reason) sql += " AND reason = " + q.Text(std::string(ReasonName(*f.reason)));
  if (!f.q.empty()) {
    sql += " AND email " + std::string(db::CaseInsensitiveLike(db::DialectOf(s))) + " " +
           q.Text(db::ContainsPattern(f.q)) + " ESCAPE '\\'";
  }
  return db::NewestFirst<SuppressionPage>(q, std::move(sql), f.cursor, limit, [&] { return row.Get(); });
}

bool Replace(soci::session& s, const Suppression& e, SuppressionReason expected, std::int64_t now_ms) {
  Query q(s);
  long long matched = 0;
  q.Into(matched);
  return q.Execute("UPDATE mail_suppressions SET reason = " + q.Text(std::string(ReasonName(e.reason))) +
                   ", source = " + q.Text(e.source) + ", detail = " + q.Text(e.detail) + ", campaign_id = " +
                   q.Int(e.campaign_id) + ", created_by = " + q.Int(e.created_by) + ", updated_at = " + q.Int(now_ms) +
                   " WHERE site_id = " + q.Int(e.site_id) + " AND id = " + q.Int(e.id) +
                   " AND reason = " + q.Text(std::string(ReasonName(expected))) + " RETURNING id");
}

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id) {
  const long long site = site_id, entry = id;
  long long matched = 0;
  s << "DELETE FROM mail_suppressions WHERE site_id = :site AND id = :id RETURNING id", soci::use(site),
      soci::use(entry), soci::into(matched);
  return s.got_data();
}

}  // namespace poste::mail::suppression_store
