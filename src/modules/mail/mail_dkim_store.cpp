#include "modules/mail/mail_dkim_store.hpp"

#include <soci/soci.h>

#include "db/query.hpp"

namespace poste::mail::dkim_store {

namespace {

using db::Query;

constexpr const char* kColumns =
    "id, site_id, domain, selector, private_key, public_key, bits, enabled, created_by, created_at, updated_at";

struct Row {
  long long id = 0, site_id = 0, created_by = 0, created_at = 0, updated_at = 0;
  int bits = 0, enabled = 0;
  soci::indicator created_by_ind = soci::i_null;
  DkimKey k;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(k.domain);
    q.Into(k.selector);
    q.Into(k.sealed_private_key);
    q.Into(k.public_key);
    q.Into(bits);
    q.Into(enabled);
    q.Into(created_by, created_by_ind);
    q.Into(created_at);
    q.Into(updated_at);
  }
  DkimKey Get() const {
    DkimKey out = k;
    out.id = id, out.site_id = site_id, out.created_at = created_at, out.updated_at = updated_at;
    out.bits = bits;
    out.enabled = enabled != 0;
    if (created_by_ind == soci::i_ok) out.created_by = created_by;
    return out;
  }
};

std::vector<DkimKey> Select(soci::session& s, std::int64_t site_id, bool enabled_only, const char* order) {
  Query q(s);
  Row row;
  row.BindTo(q);
  std::string sql = "SELECT " + std::string(kColumns) + " FROM mail_dkim_keys WHERE site_id = " + q.Int(site_id);
  if (enabled_only) sql += " AND enabled = 1";
  sql += std::string(" ORDER BY id ") + order;
  std::vector<DkimKey> out;
  if (q.Execute(sql)) {
    do {
      out.push_back(row.Get());
    } while (q.Fetch());
  }
  return out;
}

}  // namespace

std::optional<std::int64_t> Insert(soci::session& s, const DkimKey& k, std::int64_t now_ms) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  if (!q.Execute("INSERT INTO mail_dkim_keys (site_id, domain, selector, private_key, public_key, bits, enabled,"
                 " created_by, created_at, updated_at) VALUES (" +
                 q.Int(k.site_id) + ", " + q.Text(k.domain) + ", " + q.Text(k.selector) + ", '', " +
                 q.Text(k.public_key) + ", " + q.Int(k.bits) + ", " + q.Int(k.enabled ? 1 : 0) + ", " +
                 q.Int(k.created_by) + ", " + q.Int(now_ms) + ", " + q.Int(now_ms) +
                 ") ON CONFLICT (site_id, domain, selector) DO NOTHING RETURNING id")) {
    return std::nullopt;
  }
  return id;
}

void SetPrivateKey(soci::session& s, std::int64_t site_id, std::int64_t id, const std::string& sealed) {
  const long long site = site_id, key = id;
  s << "UPDATE mail_dkim_keys SET private_key = :sealed WHERE site_id = :site AND id = :id", soci::use(sealed),
      soci::use(site), soci::use(key);
}

std::optional<DkimKey> Get(soci::session& s, std::int64_t site_id, std::int64_t id) {
  Query q(s);
  Row row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kColumns) + " FROM mail_dkim_keys WHERE site_id = " + q.Int(site_id) +
                 " AND id = " + q.Int(id))) {
    return std::nullopt;
  }
  return row.Get();
}

std::vector<DkimKey> List(soci::session& s, std::int64_t site_id) { return Select(s, site_id, false, "ASC"); }

std::vector<DkimKey> ListEnabled(soci::session& s, std::int64_t site_id) { return Select(s, site_id, true, "DESC"); }

std::size_t Count(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long count = 0;
  s << "SELECT COUNT(*) FROM mail_dkim_keys WHERE site_id = :site", soci::use(site), soci::into(count);
  return static_cast<std::size_t>(count);
}

bool SetEnabled(soci::session& s, std::int64_t site_id, std::int64_t id, bool enabled, std::int64_t now_ms) {
  Query q(s);
  long long matched = 0;
  q.Into(matched);
  return q.Execute("UPDATE mail_dkim_keys SET enabled = " + q.Int(enabled ? 1 : 0) + ", updated_at = " + q.Int(now_ms) +
                   " WHERE site_id = " + q.Int(site_id) + " AND id = " + q.Int(id) + " RETURNING id");
}

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id) {
  const long long site = site_id, key = id;
  long long matched = 0;
  s << "DELETE FROM mail_dkim_keys WHERE site_id = :site AND id = :id RETURNING id", soci::use(site), soci::use(key),
      soci::into(matched);
  return s.got_data();
}

}  // namespace poste::mail::dkim_store
