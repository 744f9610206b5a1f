#include "modules/contacts/contacts_store.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "db/dialect.hpp"
#include "db/like.hpp"
#include "db/query.hpp"

namespace poste::contacts::store {

namespace {

using db::Query;

constexpr const char* kColumns =
    "id, site_id, name, email, subject, message, page, consent, ip_hash, user_agent, is_read, archived,"
    " notify_status, notify_error, created_at, updated_at";

struct Row {
  long long id = 0, site_id = 0, created_at = 0, updated_at = 0;
  int consent = 0, read = 0, archived = 0;
  std::string notify_status;
  Contact c;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(c.name);
    q.Into(c.email);
    q.Into(c.subject);
    q.Into(c.message);
    q.Into(c.page);
    q.Into(consent);
    q.Into(c.ip_hash);
    q.Into(c.user_agent);
    q.Into(read);
    q.Into(archived);
    q.Into(notify_status);
    q.Into(c.notify_error);
    q.Into(created_at);
    q.Into(updated_at);
  }
  Contact Get() const {
    Contact out = c;
    out.id = id, out.site_id = site_id, out.created_at = created_at, out.updated_at = updated_at;
    out.consent = consent != 0, out.read = read != 0, out.archived = archived != 0;
    out.notify_status = ParseNotifyStatus(notify_status);
    return out;
  }
};

}  // namespace

std::int64_t Insert(soci::session& s, const Contact& c, std::int64_t now_ms) {
  const long long site = c.site_id, now = now_ms;
  const int consent = c.consent ? 1 : 0;
  long long id = 0;
  s << "INSERT INTO contacts (site_id, name, email, subject, message, page, consent, ip_hash, user_agent,"
       " created_at, updated_at) VALUES (:site, :name, :email, :subject, :message, :page, :consent, :ip, :ua,"
       " :created, :updated) RETURNING id",
      soci::use(site), soci::use(c.name), soci::use(c.email), soci::use(c.subject), soci::use(c.message),
      soci::use(c.page), soci::use(consent), soci::use(c.ip_hash), soci::use(c.user_agent), soci::use(now),
      soci::use(now), soci::into(id);
  return id;
}

std::optional<Contact> Get(soci::session& s, std::int64_t site_id, std::int64_t id) {
  Query q(s);
  Row row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kColumns) + " FROM contacts WHERE site_id = " + q.Int(site_id) +
                 " AND id = " + q.Int(id))) {
    return std::nullopt;
  }
  return row.Get();
}

ContactPage List(soci::session& s, std::int64_t site_id, const ContactFilter& f) {
  const int limit = std::clamp(f.limit, 1, kMaxListLimit);
  Query q(s);
  Row row;
  row.BindTo(q);
  std::string sql = "SELECT " + std::string(kColumns) + " FROM contacts WHERE site_id = " + q.Int(site_id);
  switch (f.status) {
    case StatusFilter::kInbox:
      sql += " AND archived = 0";
      break;
    case StatusFilter::kUnread:
      sql += " AND archived = 0 AND is_read = 0";
      break;
    case StatusFilter::kRead:
      sql += " AND archived = 0 AND is_read = 1";
      break;
    case StatusFilter::kArchived:
      sql += " AND archived = 1";
      break;
    case StatusFilter::kAll:
      break;
  }
  if (f.from_ms) sql += " AND created_at >= " + q.Int(*f.from_ms);
  if (f.to_ms) sql += " AND created_at < " + q.Int(*f.to_ms);
  if (!f.q.empty()) {
    const std::string like(db::CaseInsensitiveLike(db::DialectOf(s)));
    const std::string pattern = db::ContainsPattern(f.q);
    std::string any;
    for (const char* column : {"name", "email", "subject", "message"}) {
      any += (any.empty() ? "" : " OR ") + std::string(column) + " " + like + " " + q.Text(pattern) + " ESCAPE '\\'";
    }
    sql += " AND (" + any + ")";
  }
  return db::NewestFirst<ContactPage>(q, std::move(sql), f.cursor, limit, [&] { return row.Get(); });
}

std::optional<Contact> Update(soci::session& s, std::int64_t site_id, std::int64_t id, const ContactPatch& p,
                              std::int64_t now_ms) {
  Query q(s);
  std::string set = "updated_at = " + q.Int(now_ms);
  if (p.read) set += ", is_read = " + q.Int(*p.read ? 1 : 0);
  if (p.archived) set += ", archived = " + q.Int(*p.archived ? 1 : 0);
  long long matched = 0;
  q.Into(matched);
  if (!q.Execute("UPDATE contacts SET " + set + " WHERE site_id = " + q.Int(site_id) + " AND id = " + q.Int(id) +
                 " RETURNING id")) {
    return std::nullopt;
  }
  return Get(s, site_id, id);
}

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id) {
  const long long site = site_id, contact = id;
  long long matched = 0;
  s << "DELETE FROM contacts WHERE site_id = :site AND id = :id RETURNING id", soci::use(site), soci::use(contact),
      soci::into(matched);
  return s.got_data();
}

bool SetNotify(soci::session& s, std::int64_t site_id, std::int64_t id, NotifyStatus status, const std::string& error,
               std::int64_t now_ms) {
  const long long site = site_id, contact = id, now = now_ms;
  const std::string name(NotifyStatusName(status));
  long long matched = 0;
  s << "UPDATE contacts SET notify_status = :status, notify_error = :error, updated_at = :now"
       " WHERE site_id = :site AND id = :id RETURNING id",
      soci::use(name), soci::use(error), soci::use(now), soci::use(site), soci::use(contact), soci::into(matched);
  return s.got_data();
}

std::int64_t CountUnread(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long count = 0;
  s << "SELECT COUNT(*) FROM contacts WHERE site_id = :site AND archived = 0 AND is_read = 0", soci::use(site),
      soci::into(count);
  return count;
}

}  // namespace poste::contacts::store
