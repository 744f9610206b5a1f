#include "modules/users/users_tokens_store.hpp"

#include <soci/soci.h>

#include <nlohmann/json.hpp>

namespace poste::users::store {
namespace {

// Prepares sql on st (whose use/into elements are already exchanged), runs it and fetches the first row.
bool Execute(soci::statement& st, const std::string& sql) {
  st.alloc();
  st.prepare(sql);
  st.define_and_bind();
  return st.execute(true);
}

std::optional<std::int64_t> Optional(long long value, soci::indicator ind) {
  if (ind != soci::i_ok) return std::nullopt;
  return value;
}

constexpr const char* kRefreshColumns =
    "id, user_id, family_id, token_hash, created_at, expires_at, rotated_at, revoked_at, ip, user_agent";

struct RefreshRow {
  long long id = 0, user_id = 0, created_at = 0, expires_at = 0, rotated_at = 0, revoked_at = 0;
  soci::indicator rotated_ind = soci::i_ok, revoked_ind = soci::i_ok;
  RefreshToken token;

  void BindTo(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(user_id));
    st.exchange(soci::into(token.family_id));
    st.exchange(soci::into(token.token_hash));
    st.exchange(soci::into(created_at));
    st.exchange(soci::into(expires_at));
    st.exchange(soci::into(rotated_at, rotated_ind));
    st.exchange(soci::into(revoked_at, revoked_ind));
    st.exchange(soci::into(token.ip));
    st.exchange(soci::into(token.user_agent));
  }
  RefreshToken Get() const {
    RefreshToken t = token;
    t.id = id, t.user_id = user_id, t.created_at = created_at, t.expires_at = expires_at;
    t.rotated_at = Optional(rotated_at, rotated_ind);
    t.revoked_at = Optional(revoked_at, revoked_ind);
    return t;
  }
};

constexpr const char* kApiKeyColumns =
    "id, user_id, name, prefix, site_ids, created_at, last_used_at, revoked_at, expires_at";

struct ApiKeyRow {
  long long id = 0, user_id = 0, created_at = 0, last_used_at = 0, revoked_at = 0, expires_at = 0;
  soci::indicator used_ind = soci::i_ok, revoked_ind = soci::i_ok, expires_ind = soci::i_ok;
  std::string name, prefix, site_ids;

  void BindTo(soci::statement& st) {
    st.exchange(soci::into(id));
    st.exchange(soci::into(user_id));
    st.exchange(soci::into(name));
    st.exchange(soci::into(prefix));
    st.exchange(soci::into(site_ids));
    st.exchange(soci::into(created_at));
    st.exchange(soci::into(last_used_at, used_ind));
    st.exchange(soci::into(revoked_at, revoked_ind));
    st.exchange(soci::into(expires_at, expires_ind));
  }
  ApiKey Get() const {
    ApiKey k;
    k.id = id, k.user_id = user_id, k.name = name, k.prefix = prefix, k.created_at = created_at;
    // Written only by InsertApiKey. Should it ever not be an array of ids, fail closed: an empty list would
    // mean every site, while site 0 does not exist, so the key reaches none.
    const auto ids = nlohmann::json::parse(site_ids, nullptr, false);
    if (ids.is_array()) {
      for (const auto& v : ids) {
        if (v.is_number_integer()) k.site_ids.push_back(v.get<std::int64_t>());
      }
    }
    if (!ids.is_array() || k.site_ids.size() != ids.size()) k.site_ids = {0};
    k.last_used_at = Optional(last_used_at, used_ind);
    k.revoked_at = Optional(revoked_at, revoked_ind);
    k.expires_at = Optional(expires_at, expires_ind);
    return k;
  }
};

std::int64_t Affected(soci::session& s, const std::string& sql, long long first, long long second) {
  soci::statement st = (s.prepare << sql, soci::use(first), soci::use(second));
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace

std::int64_t InsertRefreshToken(soci::session& s, const NewRefreshToken& token, std::int64_t now_ms) {
  const long long user = token.user_id, now = now_ms, expires = token.expires_at;
  long long id = 0;
  s << "INSERT INTO refresh_tokens (user_id, family_id, token_hash, created_at, expires_at, ip, user_agent)"
       " VALUES (:user, :family, :hash, :created, :expires, :ip, :agent) RETURNING id",
      soci::use(user), soci::use(token.family_id), soci::use(token.token_hash), soci::use(now), soci::use(expires),
      soci::use(token.ip), soci::use(token.user_agent), soci::into(id);
  return id;
}

std::optional<RefreshToken> FindRefreshTokenByHash(soci::session& s, const std::string& token_hash) {
  soci::statement st(s);
  RefreshRow row;
  row.BindTo(st);
  st.exchange(soci::use(token_hash, "hash"));
  if (!Execute(st, "SELECT " + std::string(kRefreshColumns) + " FROM refresh_tokens WHERE token_hash = :hash")) {
    return std::nullopt;
  }
  return row.Get();
}

bool MarkRotated(soci::session& s, std::int64_t token_id, std::int64_t now_ms) {
  const long long id = token_id, now = now_ms;
  long long matched = 0;
  s << "UPDATE refresh_tokens SET rotated_at = :now WHERE id = :id AND rotated_at IS NULL AND revoked_at IS NULL"
       " RETURNING id",
      soci::use(now), soci::use(id), soci::into(matched);
  return s.got_data();
}

std::int64_t RevokeFamily(soci::session& s, const std::string& family_id, std::int64_t now_ms) {
  const long long now = now_ms;
  soci::statement st = (s.prepare << "UPDATE refresh_tokens SET revoked_at = :now"
                                     " WHERE family_id = :family AND revoked_at IS NULL",
                        soci::use(now), soci::use(family_id));
  st.execute(true);
  return st.get_affected_rows();
}

std::int64_t RevokeAllForUser(soci::session& s, std::int64_t user_id, std::int64_t now_ms) {
  return Affected(s, "UPDATE refresh_tokens SET revoked_at = :now WHERE user_id = :user AND revoked_at IS NULL", now_ms,
                  user_id);
}

std::int64_t DeleteExpiredRefreshTokens(soci::session& s, std::int64_t before_ms) {
  const long long before = before_ms;
  soci::statement st = (s.prepare << "DELETE FROM refresh_tokens WHERE expires_at < :before", soci::use(before));
  st.execute(true);
  return st.get_affected_rows();
}

std::int64_t InsertApiKey(soci::session& s, const NewApiKey& key, std::int64_t now_ms) {
  const long long user = key.user_id, now = now_ms, expires = key.expires_at.value_or(0);
  soci::indicator expires_ind = key.expires_at ? soci::i_ok : soci::i_null;
  const std::string site_ids = nlohmann::json(key.site_ids).dump();
  long long id = 0;
  s << "INSERT INTO api_keys (user_id, name, prefix, key_hash, site_ids, created_at, expires_at)"
       " VALUES (:user, :name, :prefix, :hash, :sites, :created, :expires) RETURNING id",
      soci::use(user), soci::use(key.name), soci::use(key.prefix), soci::use(key.key_hash), soci::use(site_ids),
      soci::use(now), soci::use(expires, expires_ind), soci::into(id);
  return id;
}

std::optional<ApiKey> FindApiKeyByHash(soci::session& s, const std::string& key_hash) {
  soci::statement st(s);
  ApiKeyRow row;
  row.BindTo(st);
  st.exchange(soci::use(key_hash, "hash"));
  if (!Execute(st, "SELECT " + std::string(kApiKeyColumns) + " FROM api_keys WHERE key_hash = :hash")) {
    return std::nullopt;
  }
  return row.Get();
}

std::vector<ApiKey> ListApiKeys(soci::session& s, std::int64_t user_id) {
  const long long user = user_id;
  soci::statement st(s);
  ApiKeyRow row;
  row.BindTo(st);
  st.exchange(soci::use(user, "user"));
  std::vector<ApiKey> keys;
  if (Execute(st, "SELECT " + std::string(kApiKeyColumns) + " FROM api_keys WHERE user_id = :user ORDER BY id DESC")) {
    do {
      keys.push_back(row.Get());
    } while (st.fetch());
  }
  return keys;
}

bool RevokeApiKey(soci::session& s, std::int64_t user_id, std::int64_t key_id, std::int64_t now_ms) {
  const long long user = user_id, id = key_id, now = now_ms;
  long long matched = 0;
  s << "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, :now) WHERE id = :id AND user_id = :user RETURNING id",
      soci::use(now), soci::use(id), soci::use(user), soci::into(matched);
  return s.got_data();
}

void TouchApiKey(soci::session& s, std::int64_t key_id, std::int64_t now_ms) {
  const long long id = key_id, now = now_ms;
  s << "UPDATE api_keys SET last_used_at = :now WHERE id = :id", soci::use(now), soci::use(id);
}

void ReplaceRecoveryCodes(soci::session& s, std::int64_t user_id, const std::vector<std::string>& code_hashes) {
  const long long user = user_id;
  s << "DELETE FROM recovery_codes WHERE user_id = :user", soci::use(user);
  if (code_hashes.empty()) return;
  std::string hash;
  soci::statement insert = (s.prepare << "INSERT INTO recovery_codes (user_id, code_hash) VALUES (:user, :hash)",
                            soci::use(user), soci::use(hash));
  for (const auto& h : code_hashes) {
    hash = h;
    insert.execute(true);
  }
}

bool UseRecoveryCode(soci::session& s, std::int64_t user_id, const std::string& code_hash, std::int64_t now_ms) {
  const long long user = user_id, now = now_ms;
  long long matched = 0;
  // One row even if a hash was stored twice: the inner SELECT picks a single unused code. The outer
  // `used_at IS NULL` is re-checked by PostgreSQL after waiting for a concurrent use of the same row, so a code
  // is spent once.
  s << "UPDATE recovery_codes SET used_at = :now WHERE id = (SELECT id FROM recovery_codes"
       " WHERE user_id = :user AND code_hash = :hash AND used_at IS NULL ORDER BY id LIMIT 1) AND used_at IS NULL"
       " RETURNING id",
      soci::use(now), soci::use(user), soci::use(code_hash), soci::into(matched);
  return s.got_data();
}

std::int64_t CountUnusedRecoveryCodes(soci::session& s, std::int64_t user_id) {
  const long long user = user_id;
  long long count = 0;
  s << "SELECT COUNT(*) FROM recovery_codes WHERE user_id = :user AND used_at IS NULL", soci::use(user),
      soci::into(count);
  return count;
}

}  // namespace poste::users::store
