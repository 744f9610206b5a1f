#include "modules/mail/mail_account_store.hpp"

#include <soci/soci.h>

#include "db/dialect.hpp"
#include "db/query.hpp"

namespace poste::mail::account_store {

namespace {

using db::Query;

constexpr const char* kColumns =
    "id, site_id, name, type, from_email, from_name, settings, secrets, is_default, per_second, per_hour, per_day,"
    " created_at, updated_at";

struct Row {
  long long id = 0, site_id = 0, per_second = 0, per_hour = 0, per_day = 0, created_at = 0, updated_at = 0;
  int is_default = 0;
  std::string settings;
  Account a;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(a.name);
    q.Into(a.type);
    q.Into(a.from.email);
    q.Into(a.from.name);
    q.Into(settings);
    q.Into(a.sealed_secrets);
    q.Into(is_default);
    q.Into(per_second);
    q.Into(per_hour);
    q.Into(per_day);
    q.Into(created_at);
    q.Into(updated_at);
  }
  Account Get() const {
    Account out = a;
    out.id = id, out.site_id = site_id, out.created_at = created_at, out.updated_at = updated_at;
    out.is_default = is_default != 0;
    out.limits = {per_second, per_hour, per_day};
    auto json = nlohmann::json::parse(settings, nullptr, false);
    out.settings = json.is_object() ? json : nlohmann::json::object();
    return out;
  }
};

std::vector<Account> Where(soci::session& s, const std::string& condition_suffix,
                           const std::function<std::string(Query&)>& condition) {
  Query q(s);
  Row row;
  row.BindTo(q);
  std::vector<Account> out;
  if (q.Execute("SELECT " + std::string(kColumns) + " FROM mail_accounts WHERE " + condition(q) + " ORDER BY id" +
                condition_suffix)) {
    do {
      out.push_back(row.Get());
    } while (q.Fetch());
  }
  return out;
}

std::optional<Account> First(std::vector<Account> found) {
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

}  // namespace

std::int64_t Insert(soci::session& s, const Account& a, std::int64_t now_ms) {
  const long long site = a.site_id, now = now_ms, per_second = a.limits.per_second, per_hour = a.limits.per_hour,
                  per_day = a.limits.per_day;
  const int is_default = a.is_default ? 1 : 0;
  const std::string settings = a.settings.dump();
  long long id = 0;
  s << "INSERT INTO mail_accounts (site_id, name, type, from_email, from_name, settings, secrets, is_default,"
       " per_second, per_hour, per_day, created_at, updated_at) VALUES (:site, :name, :type, :email, :from_name,"
       " :settings, :secrets, :is_default, :ps, :ph, :pd, :created, :updated) RETURNING id",
      soci::use(site), soci::use(a.name), soci::use(a.type), soci::use(a.from.email), soci::use(a.from.name),
      soci::use(settings), soci::use(a.sealed_secrets), soci::use(is_default), soci::use(per_second),
      soci::use(per_hour), soci::use(per_day), soci::use(now), soci::use(now), soci::into(id);
  return id;
}

std::optional<Account> Get(soci::session& s, std::int64_t site_id, std::int64_t id) {
  return First(Where(s, "", [&](Query& q) { return "site_id = " + q.Int(site_id) + " AND id = " + q.Int(id); }));
}

std::optional<Account> GetForUpdate(soci::session& s, std::int64_t site_id, std::int64_t id) {
  return First(Where(s, std::string(db::ForUpdate(db::DialectOf(s))),
                     [&](Query& q) { return "site_id = " + q.Int(site_id) + " AND id = " + q.Int(id); }));
}

std::optional<Account> GetDefault(soci::session& s, std::int64_t site_id) {
  return First(Where(s, "", [&](Query& q) { return "site_id = " + q.Int(site_id) + " AND is_default = 1"; }));
}

std::vector<Account> List(soci::session& s, std::int64_t site_id) {
  return Where(s, "", [&](Query& q) { return "site_id = " + q.Int(site_id); });
}

std::int64_t Count(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long n = 0;
  s << "SELECT COUNT(*) FROM mail_accounts WHERE site_id = :site", soci::use(site), soci::into(n);
  return n;
}

bool Save(soci::session& s, const Account& a, std::int64_t now_ms) {
  const long long site = a.site_id, id = a.id, now = now_ms, per_second = a.limits.per_second,
                  per_hour = a.limits.per_hour, per_day = a.limits.per_day;
  const int is_default = a.is_default ? 1 : 0;
  const std::string settings = a.settings.dump();
  long long matched = 0;
  s << "UPDATE mail_accounts SET name = :name, type = :type, from_email = :email, from_name = :from_name,"
       " settings = :settings, secrets = :secrets, is_default = :is_default, per_second = :ps, per_hour = :ph,"
       " per_day = :pd, updated_at = :now WHERE site_id = :site AND id = :id RETURNING id",
      soci::use(a.name), soci::use(a.type), soci::use(a.from.email), soci::use(a.from.name), soci::use(settings),
      soci::use(a.sealed_secrets), soci::use(is_default), soci::use(per_second), soci::use(per_hour),
      soci::use(per_day), soci::use(now), soci::use(site), soci::use(id), soci::into(matched);
  return s.got_data();
}

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id) {
  const long long site = site_id, account = id;
  long long matched = 0;
  s << "DELETE FROM mail_accounts WHERE site_id = :site AND id = :id RETURNING id", soci::use(site), soci::use(account),
      soci::into(matched);
  return s.got_data();
}

void ClearDefault(soci::session& s, std::int64_t site_id, std::int64_t except_id) {
  const long long site = site_id, except = except_id;
  s << "UPDATE mail_accounts SET is_default = 0 WHERE site_id = :site AND id <> :except AND is_default = 1",
      soci::use(site), soci::use(except);
}

}  // namespace poste::mail::account_store
