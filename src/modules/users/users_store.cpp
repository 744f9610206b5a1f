#include "modules/users/users_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "db/dialect.hpp"
#include "db/query.hpp"
#include "lib/error.hpp"

namespace poste::users::store {
namespace {

using db::Query;

constexpr const char* kUserColumns =
    "id, email, name, role, active, totp_enabled, token_version, created_at, updated_at, last_login_at";

// The into() targets of kUserColumns.
struct UserRow {
  long long id = 0, created_at = 0, updated_at = 0, last_login_at = 0;
  std::string email, name, role;
  int active = 0, totp_enabled = 0, token_version = 0;
  soci::indicator last_login_ind = soci::i_ok;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(email);
    q.Into(name);
    q.Into(role);
    q.Into(active);
    q.Into(totp_enabled);
    q.Into(token_version);
    q.Into(created_at);
    q.Into(updated_at);
    q.Into(last_login_at, last_login_ind);
  }
  User ToUser() const {
    User u;
    u.id = id, u.email = email, u.name = name, u.role = role;
    u.active = active != 0, u.totp_enabled = totp_enabled != 0, u.token_version = token_version;
    u.created_at = created_at, u.updated_at = updated_at;
    if (last_login_ind == soci::i_ok) u.last_login_at = last_login_at;
    return u;
  }
};

AppError EmailTaken() {
  return AppError::Conflict("A user with this email address already exists.",
                            {{"email", "taken", "this email address is already used by another user"}});
}

// Runs an UPDATE/DELETE ... RETURNING id: whether a row matched.
template <class... Uses>
bool Matched(soci::session& s, const std::string& sql, Uses&&... uses) {
  long long id = 0;
  ((s << sql + " RETURNING id", soci::into(id)), ..., uses);
  return s.got_data();
}

bool UserExists(soci::session& s, std::int64_t id) {
  long long found = 0;
  const long long wanted = id;
  s << "SELECT id FROM users WHERE id = :id", soci::use(wanted), soci::into(found);
  return s.got_data();
}

// Throws AppError::Validation on field "site_ids" unless every id is a site.
void RequireSites(soci::session& s, const std::set<std::int64_t>& site_ids) {
  if (site_ids.empty()) return;
  Query q(s);
  long long id = 0;
  q.Into(id);
  std::set<std::int64_t> missing = site_ids;
  if (q.Execute("SELECT id FROM sites WHERE id IN (" + q.IntList(site_ids) + ")")) {
    do {
      missing.erase(id);
    } while (q.Fetch());
  }
  if (missing.empty()) return;
  std::string list;
  for (const auto m : missing) list += (list.empty() ? "" : ", ") + std::to_string(m);
  throw AppError::Validation({{"site_ids", "unknown_site", "no site with id " + list}});
}

void ReplaceSites(soci::session& s, std::int64_t user_id, const std::set<std::int64_t>& site_ids) {
  long long user = user_id, site = 0;
  s << "DELETE FROM user_sites WHERE user_id = :user", soci::use(user);
  if (site_ids.empty()) return;
  soci::statement insert = (s.prepare << "INSERT INTO user_sites (user_id, site_id) VALUES (:user, :site)",
                            soci::use(user), soci::use(site));
  for (const auto id : site_ids) {
    site = id;
    insert.execute(true);
  }
}

// user id -> its site ids (ascending), for a page of users.
std::map<std::int64_t, std::vector<std::int64_t>> SitesOfMany(soci::session& s,
                                                              const std::vector<std::int64_t>& user_ids) {
  std::map<std::int64_t, std::vector<std::int64_t>> out;
  if (user_ids.empty()) return out;
  Query q(s);
  long long user = 0, site = 0;
  q.Into(user);
  q.Into(site);
  const std::string sql = "SELECT user_id, site_id FROM user_sites WHERE user_id IN (" + q.IntList(user_ids) +
                          ") ORDER BY user_id, site_id";
  if (!q.Execute(sql)) return out;
  do {
    out[user].push_back(site);
  } while (q.Fetch());
  return out;
}

// q already holds the condition's values.
std::optional<UserAuth> GetAuthWhere(Query& q, const std::string& condition) {
  UserAuth a;
  long long id = 0, last_step = 0, changed = 0;
  int active = 0, totp_enabled = 0;
  std::string secret;
  soci::indicator secret_ind = soci::i_ok, step_ind = soci::i_ok;
  q.Into(id), q.Into(a.email), q.Into(a.password_hash), q.Into(a.role), q.Into(active), q.Into(a.token_version);
  q.Into(totp_enabled), q.Into(secret, secret_ind), q.Into(last_step, step_ind), q.Into(changed);
  const std::string sql =
      "SELECT id, email, password_hash, role, active, token_version, totp_enabled, totp_secret, totp_last_step,"
      " password_changed_at FROM users WHERE " +
      condition;
  if (!q.Execute(sql)) return std::nullopt;
  a.id = id;
  a.active = active != 0;
  a.totp_enabled = totp_enabled != 0;
  if (secret_ind == soci::i_ok) a.totp_secret = secret;
  if (step_ind == soci::i_ok) a.totp_last_step = last_step;
  a.password_changed_at = changed;
  return a;
}

}  // namespace

std::int64_t Insert(soci::session& s, const NewUser& new_user, std::int64_t now_ms) {
  const std::set<std::int64_t> site_ids(new_user.site_ids.begin(), new_user.site_ids.end());
  RequireSites(s, site_ids);
  const std::string email = TrimEmail(new_user.email), key = EmailKey(new_user.email);
  const int active = new_user.active ? 1 : 0;
  const long long now = now_ms;
  long long id = 0;
  try {
    s << "INSERT INTO users (email, email_key, name, password_hash, role, active, totp_enabled, token_version,"
         " created_at, updated_at, password_changed_at)"
         " VALUES (:email, :key, :name, :hash, :role, :active, 0, 0, :created, :updated, :changed) RETURNING id",
        soci::use(email), soci::use(key), soci::use(new_user.name), soci::use(new_user.password_hash),
        soci::use(new_user.role), soci::use(active), soci::use(now), soci::use(now), soci::use(now), soci::into(id);
  } catch (const std::exception& error) {
    if (db::IsUniqueViolation(error)) throw EmailTaken();
    throw;
  }
  ReplaceSites(s, id, site_ids);
  return id;
}

std::optional<User> GetById(soci::session& s, std::int64_t id) {
  Query q(s);
  UserRow row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kUserColumns) + " FROM users WHERE id = " + q.Int(id))) return std::nullopt;
  User user = row.ToUser();
  user.site_ids = SitesOf(s, id);
  return user;
}

std::optional<UserAuth> GetAuthById(soci::session& s, std::int64_t id) {
  Query q(s);
  return GetAuthWhere(q, "id = " + q.Int(id));
}

std::optional<UserAuth> GetAuthByEmailKey(soci::session& s, std::string_view email) {
  Query q(s);
  return GetAuthWhere(q, "email_key = " + q.Text(EmailKey(email)));
}

UserPage List(soci::session& s, const ListOptions& options) {
  const int limit = std::clamp(options.limit, 1, kMaxListLimit);
  Query q(s);
  UserRow row;
  row.BindTo(q);
  std::string sql = "SELECT " + std::string(kUserColumns) + " FROM users WHERE 1 = 1";
  if (options.site_id) {
    sql += " AND EXISTS (SELECT 1 FROM user_sites us WHERE us.user_id = users.id AND us.site_id = " +
           q.Int(*options.site_id) + ")";
  }
  if (options.role) sql += " AND role = " + q.Text(*options.role);
  if (options.active) sql += " AND active = " + q.Int(*options.active ? 1 : 0);
  auto page = db::NewestFirst<UserPage>(q, std::move(sql), options.cursor, limit, [&] { return row.ToUser(); });
  std::vector<std::int64_t> ids;
  for (const auto& user : page.items) ids.push_back(user.id);
  auto sites = SitesOfMany(s, ids);
  for (auto& user : page.items) user.site_ids = std::move(sites[user.id]);
  return page;
}

std::optional<User> Update(soci::session& s, std::int64_t id, const UserPatch& patch, std::int64_t now_ms) {
  Query q(s);
  std::string set;
  const auto assign = [&](const char* column, const std::string& placeholder) {
    set += (set.empty() ? "" : ", ") + std::string(column) + " = " + placeholder;
  };
  if (patch.email) {
    assign("email", q.Text(TrimEmail(*patch.email)));
    assign("email_key", q.Text(EmailKey(*patch.email)));
  }
  if (patch.name) assign("name", q.Text(*patch.name));
  if (patch.role) assign("role", q.Text(*patch.role));
  if (patch.active) assign("active", q.Int(*patch.active ? 1 : 0));
  if (!set.empty()) {
    assign("updated_at", q.Int(now_ms));
    long long matched = 0;
    q.Into(matched);
    try {
      if (!q.Execute("UPDATE users SET " + set + " WHERE id = " + q.Int(id) + " RETURNING id")) return std::nullopt;
    } catch (const std::exception& error) {
      if (db::IsUniqueViolation(error)) throw EmailTaken();
      throw;
    }
  }
  return GetById(s, id);
}

bool Delete(soci::session& s, std::int64_t id) {
  const long long user = id;
  return Matched(s, "DELETE FROM users WHERE id = :id", soci::use(user));
}

bool SetSites(soci::session& s, std::int64_t user_id, const std::vector<std::int64_t>& site_ids) {
  if (!UserExists(s, user_id)) return false;
  const std::set<std::int64_t> wanted(site_ids.begin(), site_ids.end());
  RequireSites(s, wanted);
  ReplaceSites(s, user_id, wanted);
  return true;
}

std::vector<std::int64_t> SitesOf(soci::session& s, std::int64_t user_id) { return SitesOfMany(s, {user_id})[user_id]; }

std::int64_t CountUsers(soci::session& s) {
  long long count = 0;
  s << "SELECT COUNT(*) FROM users", soci::into(count);
  return count;
}

std::int64_t CountActiveAdmins(soci::session& s) {
  // The rows are locked (PostgreSQL) rather than counted, so that two transactions demoting two different
  // admins cannot both see two: the second waits for the first and then counts without the demoted one.
  const std::string sql =
      "SELECT id FROM users WHERE role = 'admin' AND active = 1" + std::string(db::ForUpdate(db::DialectOf(s)));
  soci::rowset<long long> ids = (s.prepare << sql);
  std::int64_t count = 0;
  for (auto it = ids.begin(); it != ids.end(); ++it) ++count;
  return count;
}

bool SetPasswordHash(soci::session& s, std::int64_t id, const std::string& password_hash, std::int64_t now_ms) {
  const long long user = id, now = now_ms;
  return Matched(s,
                 "UPDATE users SET password_hash = :hash, password_changed_at = :changed, updated_at = :now"
                 " WHERE id = :id",
                 soci::use(password_hash), soci::use(now), soci::use(now), soci::use(user));
}

bool TouchLastLogin(soci::session& s, std::int64_t id, std::int64_t now_ms) {
  const long long user = id, now = now_ms;
  return Matched(s, "UPDATE users SET last_login_at = :now WHERE id = :id", soci::use(now), soci::use(user));
}

std::optional<int> BumpTokenVersion(soci::session& s, std::int64_t id) {
  const long long user = id;
  int version = 0;
  s << "UPDATE users SET token_version = token_version + 1 WHERE id = :id RETURNING token_version", soci::use(user),
      soci::into(version);
  if (!s.got_data()) return std::nullopt;
  return version;
}

bool SetTotp(soci::session& s, std::int64_t id, const std::optional<std::string>& sealed_secret, bool enabled,
             std::int64_t now_ms) {
  const long long user = id, now = now_ms;
  const std::string secret = sealed_secret.value_or("");
  soci::indicator secret_ind = sealed_secret ? soci::i_ok : soci::i_null;
  const int on = enabled ? 1 : 0;
  return Matched(s,
                 "UPDATE users SET totp_secret = :secret, totp_enabled = :enabled, totp_last_step = NULL,"
                 " updated_at = :now WHERE id = :id",
                 soci::use(secret, secret_ind), soci::use(on), soci::use(now), soci::use(user));
}

bool AcceptTotpStep(soci::session& s, std::int64_t id, std::int64_t step) {
  const long long user = id, value = step;
  return Matched(s,
                 "UPDATE users SET totp_last_step = :step WHERE id = :id"
                 " AND (totp_last_step IS NULL OR totp_last_step < :previous)",
                 soci::use(value), soci::use(user), soci::use(value));
}

}  // namespace poste::users::store
