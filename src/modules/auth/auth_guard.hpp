#pragma once
// Authentication and permission middleware (web::Middleware factories), declared on each route.
//
// Authenticate() reads `Authorization: Bearer <credential>` or, without that header, the poste_access cookie.
// A credential is an access token (JWT: signature with alg pinned to HS256, iss, aud, exp, nbf; then the
// user must be active and the token's `ver` equal the user's token_version) or a personal API key
// (`pst_...`: looked up by hash, neither revoked nor expired, its user active). Success sets ctx.principal;
// an invalid, expired, tampered or alg=none credential answers 401 with `WWW-Authenticate: Bearer`; no
// credential at all continues anonymously (routes that need a caller add RequireUser()).
// A principal from the cookie on an unsafe method also needs the double-submit CSRF token: header
// X-CSRF-Token equal to cookie poste_csrf, else 403.
//
// What a user may do ({active, admin, sites, token_version}) is cached in process for a short TTL (5 s by
// default), so a request with a valid access token costs no SQL; services that change a user call
// Invalidate(user_id) so that this instance sees it at once (other instances within the TTL). API keys are
// cached the same way, by the SHA-256 of the key (never the key itself): a request with a known key is
// answered on the I/O thread without SQL; revoking a key calls ForgetApiKey(id). The CLI and other instances
// are seen within the TTL.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/web/route.hpp"
#include "modules/auth/auth_clock.hpp"
#include "modules/auth/token_service.hpp"
#include "modules/users/users_types.hpp"

namespace poste::db {
class Database;
}

namespace poste::auth {

inline constexpr std::string_view kApiKeyPrefix = "pst_";

// Blocking (run through blocking()): the site id for an id or a slug, nullopt when no such site.
using SiteResolver = std::function<std::optional<std::int64_t>(std::string_view id_or_slug)>;

struct AuthGuardOptions {
  std::int64_t cache_ttl_ms = 5000;
  std::size_t cache_max_users = 10000;      // beyond it the cache is cleared (it refills on demand)
  std::int64_t touch_interval_ms = 60'000;  // an API key's last_used_at is written at most this often
};

// What the guard needs to know of a user.
struct UserFacts {
  bool active = false;
  bool admin = false;
  std::vector<std::int64_t> site_ids;
  int token_version = 0;
};

class AuthGuard {
 public:
  // steady: monotonic ms for the cache; the token service supplies wall time.
  AuthGuard(db::Database& db, const TokenService& tokens, AuthGuardOptions options = {}, Clock steady = SteadyNowMs);

  web::Middleware Authenticate();

  // Forget what is cached of a user (role, sites, active or token_version changed).
  void Invalidate(std::int64_t user_id);
  // Forget a cached API key (revoked).
  void ForgetApiKey(std::int64_t key_id);
  void InvalidateAll();

  // The principal for an access token, or nullopt when it is invalid (any reason). Blocking on a cache miss.
  std::optional<web::Principal> FromAccessToken(std::string_view token);
  // The principal for an API key, or nullopt. Blocking on a cache miss.
  std::optional<web::Principal> FromApiKey(std::string_view key);
  // From the caches alone, without blocking: nullopt when the key, its user's facts or a due last-used write
  // need the database; else the answer (a principal, or nullopt inside for a refused key).
  std::optional<std::optional<web::Principal>> CachedApiKey(std::string_view key);
  // The cached facts, nullopt on a miss (no SQL).
  std::optional<UserFacts> CachedFacts(std::int64_t user_id);
  // Cached facts, loading them on a miss (blocking); nullopt when there is no such user.
  std::optional<UserFacts> Facts(std::int64_t user_id);

 private:
  struct Entry {
    UserFacts facts;
    std::int64_t loaded_at_ms = 0;
  };
  struct KeyEntry {
    users::ApiKey key;
    std::int64_t loaded_at_ms = 0;
  };
  std::optional<UserFacts> Load(std::int64_t user_id);
  bool Fresh(std::int64_t loaded_at_ms, std::int64_t now) const;
  std::optional<web::Principal> KeyPrincipal(const users::ApiKey& key, const std::optional<UserFacts>& facts,
                                             std::int64_t wall) const;
  // Whether last_used_at should be written now (and, when so, records that it is being written).
  bool TouchDue(const users::ApiKey& key, std::int64_t wall, bool claim);
  static std::optional<web::Principal> PrincipalFor(std::int64_t user_id, const std::optional<UserFacts>& facts,
                                                    std::optional<int> token_version);

  db::Database& db_;
  const TokenService& tokens_;
  AuthGuardOptions options_;
  Clock steady_;
  std::mutex mu_;
  std::map<std::int64_t, Entry> cache_;
  std::map<std::string, KeyEntry, std::less<>> keys_;  // SHA-256 of the key (hex) -> the key's record
  std::map<std::int64_t, std::int64_t> touched_;       // api key id -> steady ms of the last TouchApiKey
};

// 401 unless a principal is set.
web::Middleware RequireUser();
// 401 unless a principal is set; 403 when it came from an API key (managing credentials needs a session).
web::Middleware RequireSession();
// 401 anonymous; 403 unless admin. For site-scoped objects use RequireSiteAccess (404), not this.
web::Middleware RequireAdmin();
// 401 anonymous; resolves ctx.Param(param) (an id or a slug) into ctx.site_id; 404 (never 403) when the site
// does not exist or the principal cannot access it.
web::Middleware RequireSiteAccess(SiteResolver resolver, std::string param = "site");
// 401 anonymous; the admin, or the user whose id is ctx.Param(param); 403 otherwise.
web::Middleware RequireSelfOrAdmin(std::string param = "id");

}  // namespace poste::auth
