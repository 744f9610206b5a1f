#include "modules/audit/audit_store.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "db/query.hpp"

namespace poste::audit::store {

std::int64_t Insert(soci::session& s, const AuditEntry& e) {
  long long at = e.at, id = 0;
  long long actor = e.actor_user_id.value_or(0), key = e.actor_api_key_id.value_or(0), site = e.site_id.value_or(0);
  soci::indicator actor_ind = e.actor_user_id ? soci::i_ok : soci::i_null;
  soci::indicator key_ind = e.actor_api_key_id ? soci::i_ok : soci::i_null;
  soci::indicator site_ind = e.site_id ? soci::i_ok : soci::i_null;
  const std::string changes = e.changes.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  s << "INSERT INTO audit_log (at, actor_user_id, actor_api_key_id, action, object_type, object_id, site_id, ip,"
       " request_id, changes) VALUES (:at, :actor, :key, :action, :otype, :oid, :site, :ip, :rid, :changes)"
       " RETURNING id",
      soci::use(at), soci::use(actor, actor_ind), soci::use(key, key_ind), soci::use(e.action),
      soci::use(e.object_type), soci::use(e.object_id), soci::use(site, site_ind), soci::use(e.ip),
      soci::use(e.request_id), soci::use(changes), soci::into(id);
  return id;
}

AuditPage List(soci::session& s, const AuditFilter& f) {
  const int limit = std::clamp(f.limit, 1, kMaxListLimit);
  db::Query q(s);
  long long id = 0, at = 0, actor = 0, key = 0, site = 0;
  soci::indicator actor_ind = soci::i_ok, key_ind = soci::i_ok, site_ind = soci::i_ok;
  std::string action, otype, oid, ip, rid, changes;
  q.Into(id), q.Into(at), q.Into(actor, actor_ind), q.Into(key, key_ind), q.Into(action), q.Into(otype);
  q.Into(oid), q.Into(site, site_ind), q.Into(ip), q.Into(rid), q.Into(changes);
  std::string where = " WHERE 1 = 1";
  if (f.actor_user_id) where += " AND actor_user_id = " + q.Int(*f.actor_user_id);
  if (f.site_id) where += " AND site_id = " + q.Int(*f.site_id);
  if (f.action) {
    if (!f.action->empty() && f.action->back() == '*') {
      // A prefix: compared with substr rather than LIKE, so '%' and '_' in it mean themselves.
      const std::string prefix = f.action->substr(0, f.action->size() - 1);
      where += " AND substr(action, 1, " + q.Int(static_cast<std::int64_t>(prefix.size())) + ") = " + q.Text(prefix);
    } else {
      where += " AND action = " + q.Text(*f.action);
    }
  }
  if (f.object_type) where += " AND object_type = " + q.Text(*f.object_type);
  if (f.object_id) where += " AND object_id = " + q.Text(*f.object_id);
  if (f.from_ms) where += " AND at >= " + q.Int(*f.from_ms);
  if (f.to_ms) where += " AND at < " + q.Int(*f.to_ms);
  const std::string sql =
      "SELECT id, at, actor_user_id, actor_api_key_id, action, object_type, object_id, site_id, ip, request_id,"
      " changes FROM audit_log" +
      where;
  return db::NewestFirst<AuditPage>(q, sql, f.cursor, limit, [&] {
    AuditEntry e;
    e.id = id, e.at = at;
    if (actor_ind == soci::i_ok) e.actor_user_id = actor;
    if (key_ind == soci::i_ok) e.actor_api_key_id = key;
    if (site_ind == soci::i_ok) e.site_id = site;
    e.action = action, e.object_type = otype, e.object_id = oid, e.ip = ip, e.request_id = rid;
    e.changes = nlohmann::json::parse(changes, nullptr, false);
    if (e.changes.is_discarded()) e.changes = nlohmann::json::object();
    return e;
  });
}

}  // namespace poste::audit::store
