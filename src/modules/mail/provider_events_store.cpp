#include "modules/mail/provider_events_store.hpp"

#include <soci/soci.h>

#include <functional>

#include "db/query.hpp"

namespace poste::mail::provider_endpoint_store {

namespace {

using db::Query;

constexpr const char* kColumns =
    "id, site_id, account_id, provider, token_hash, verification_key, topic_arn, confirmed_at, last_event_at, "
    "created_at, updated_at";

struct Row {
  long long id = 0, site_id = 0, account_id = 0, confirmed_at = 0, last_event_at = 0, created_at = 0, updated_at = 0;
  soci::indicator confirmed_ind = soci::i_null, event_ind = soci::i_null;
  ProviderEndpoint e;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(account_id);
    q.Into(e.provider);
    q.Into(e.token_hash);
    q.Into(e.verification_key);
    q.Into(e.topic_arn);
    q.Into(confirmed_at, confirmed_ind);
    q.Into(last_event_at, event_ind);
    q.Into(created_at);
    q.Into(updated_at);
  }
  ProviderEndpoint Get() const {
    ProviderEndpoint out = e;
    out.id = id, out.site_id = site_id, out.account_id = account_id, out.created_at = created_at;
    out.updated_at = updated_at;
    if (confirmed_ind == soci::i_ok) out.confirmed_at = confirmed_at;
    if (event_ind == soci::i_ok) out.last_event_at = last_event_at;
    return out;
  }
};

std::vector<ProviderEndpoint> Select(soci::session& s, const std::string& where,
                                     const std::function<void(Query&, std::string&)>& bind) {
  Query q(s);
  Row row;
  row.BindTo(q);
  std::string sql = "SELECT " + std::string(kColumns) + " FROM mail_provider_endpoints WHERE " + where;
  bind(q, sql);
  std::vector<ProviderEndpoint> out;
  if (q.Execute(sql + " ORDER BY id")) {
    do {
      out.push_back(row.Get());
    } while (q.Fetch());
  }
  return out;
}

std::optional<ProviderEndpoint> First(std::vector<ProviderEndpoint> list) {
  if (list.empty()) return std::nullopt;
  return std::move(list.front());
}

}  // namespace

std::int64_t Insert(soci::session& s, const ProviderEndpoint& e, std::int64_t now_ms) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  q.Execute(
      "INSERT INTO mail_provider_endpoints (site_id, account_id, provider, token_hash, verification_key,"
      " topic_arn, created_at, updated_at) VALUES (" +
      q.Int(e.site_id) + ", " + q.Int(e.account_id) + ", " + q.Text(e.provider) + ", " + q.Text(e.token_hash) + ", " +
      q.Text(e.verification_key) + ", " + q.Text(e.topic_arn) + ", " + q.Int(now_ms) + ", " + q.Int(now_ms) +
      ") RETURNING id");
  return id;
}

std::optional<ProviderEndpoint> Get(soci::session& s, std::int64_t site_id, std::int64_t id) {
  return First(
      Select(s, "site_id = ", [&](Query& q, std::string& sql) { sql += q.Int(site_id) + " AND id = " + q.Int(id); }));
}

std::optional<ProviderEndpoint> GetByAccount(soci::session& s, std::int64_t site_id, std::int64_t account_id) {
  return First(Select(s, "site_id = ", [&](Query& q, std::string& sql) {
    sql += q.Int(site_id) + " AND account_id = " + q.Int(account_id);
  }));
}

std::optional<ProviderEndpoint> GetByTokenHash(soci::session& s, const std::string& token_hash) {
  return First(Select(s, "token_hash = ", [&](Query& q, std::string& sql) { sql += q.Text(token_hash); }));
}

std::vector<ProviderEndpoint> List(soci::session& s, std::int64_t site_id) {
  return Select(s, "site_id = ", [&](Query& q, std::string& sql) { sql += q.Int(site_id); });
}

bool Update(soci::session& s, const ProviderEndpoint& e, std::int64_t now_ms) {
  Query q(s);
  long long matched = 0;
  q.Into(matched);
  return q.Execute("UPDATE mail_provider_endpoints SET token_hash = " + q.Text(e.token_hash) +
                   ", verification_key = " + q.Text(e.verification_key) + ", topic_arn = " + q.Text(e.topic_arn) +
                   ", confirmed_at = " + q.Int(e.confirmed_at) + ", updated_at = " + q.Int(now_ms) +
                   " WHERE site_id = " + q.Int(e.site_id) + " AND id = " + q.Int(e.id) + " RETURNING id");
}

void MarkConfirmed(soci::session& s, std::int64_t site_id, std::int64_t id, std::int64_t now_ms) {
  const long long site = site_id, endpoint = id, now = now_ms;
  s << "UPDATE mail_provider_endpoints SET confirmed_at = :now WHERE site_id = :site AND id = :id", soci::use(now),
      soci::use(site), soci::use(endpoint);
}

void MarkEvent(soci::session& s, std::int64_t site_id, std::int64_t id, std::int64_t now_ms) {
  const long long site = site_id, endpoint = id, now = now_ms;
  s << "UPDATE mail_provider_endpoints SET last_event_at = :now WHERE site_id = :site AND id = :id", soci::use(now),
      soci::use(site), soci::use(endpoint);
}

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id) {
  const long long site = site_id, endpoint = id;
  long long matched = 0;
  s << "DELETE FROM mail_provider_endpoints WHERE site_id = :site AND id = :id RETURNING id", soci::use(site),
      soci::use(endpoint), soci::into(matched);
  return s.got_data();
}

}  // namespace poste::mail::provider_endpoint_store
