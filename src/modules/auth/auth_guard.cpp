#include "modules/auth/auth_guard.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "db/database.hpp"
#include "lib/async/blocking.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/error.hpp"
#include "modules/auth/auth_http.hpp"
#include "modules/users/users_store.hpp"
#include "modules/users/users_tokens_store.hpp"

namespace poste::auth {

namespace {

web::Response Unauthorized(const web::RequestContext& ctx, std::string_view message) {
  auto r = ProblemFor(ctx, AppError(ErrorCode::kUnauthorized, std::string(message)));
  r.headers.Set("WWW-Authenticate", R"(Bearer realm="poste", error="invalid_token")");
  return r;
}

web::Response Anonymous(const web::RequestContext& ctx) {
  auto r = ProblemFor(ctx, AppError(ErrorCode::kUnauthorized, "Authentication is required."));
  r.headers.Set("WWW-Authenticate", R"(Bearer realm="poste")");
  return r;
}

web::Response Forbidden(const web::RequestContext& ctx, std::string message) {
  return ProblemFor(ctx, AppError(ErrorCode::kForbidden, std::move(message)));
}

std::optional<std::int64_t> ParseId(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

AuthGuard::AuthGuard(db::Database& db, const TokenService& tokens, AuthGuardOptions options, Clock steady)
    : db_(db), tokens_(tokens), options_(options), steady_(steady ? std::move(steady) : Clock(SteadyNowMs)) {}

void AuthGuard::Invalidate(std::int64_t user_id) {
  std::lock_guard lock(mu_);
  cache_.erase(user_id);
  std::erase_if(keys_, [user_id](const auto& entry) { return entry.second.key.user_id == user_id; });
}

void AuthGuard::InvalidateAll() {
  std::lock_guard lock(mu_);
  cache_.clear();
  keys_.clear();
}

std::optional<UserFacts> AuthGuard::CachedFacts(std::int64_t user_id) {
  const std::int64_t now = steady_();
  std::lock_guard lock(mu_);
  auto it = cache_.find(user_id);
  if (it == cache_.end()) return std::nullopt;
  if (now - it->second.loaded_at_ms >= options_.cache_ttl_ms || now < it->second.loaded_at_ms) {
    cache_.erase(it);
    return std::nullopt;
  }
  return it->second.facts;
}

std::optional<UserFacts> AuthGuard::Load(std::int64_t user_id) {
  auto user = db_.ReadValue([&](soci::session& s) { return users::store::GetById(s, user_id); });
  if (!user) return std::nullopt;
  UserFacts facts{user->active, user->role == users::kRoleAdmin, user->site_ids, user->token_version};
  const std::int64_t now = steady_();
  std::lock_guard lock(mu_);
  if (cache_.size() >= options_.cache_max_users) cache_.clear();
  cache_[user_id] = Entry{facts, now};
  return facts;
}

std::optional<UserFacts> AuthGuard::Facts(std::int64_t user_id) {
  if (auto cached = CachedFacts(user_id)) return cached;
  return Load(user_id);
}

std::optional<web::Principal> AuthGuard::PrincipalFor(std::int64_t user_id, const std::optional<UserFacts>& facts,
                                                      std::optional<int> token_version) {
  if (!facts || !facts->active) return std::nullopt;
  if (token_version && *token_version != facts->token_version) return std::nullopt;
  web::Principal p;
  p.user_id = user_id;
  p.admin = facts->admin;
  p.site_ids = facts->site_ids;
  return p;
}

std::optional<web::Principal> AuthGuard::FromAccessToken(std::string_view token) {
  auto claims = tokens_.VerifyAccess(token);
  if (!claims) return std::nullopt;
  return PrincipalFor(claims->user_id, Facts(claims->user_id), claims->token_version);
}

bool AuthGuard::Fresh(std::int64_t loaded_at_ms, std::int64_t now) const {
  return now >= loaded_at_ms && now - loaded_at_ms < options_.cache_ttl_ms;
}

void AuthGuard::ForgetApiKey(std::int64_t key_id) {
  std::lock_guard lock(mu_);
  std::erase_if(keys_, [key_id](const auto& entry) { return entry.second.key.id == key_id; });
}

std::optional<web::Principal> AuthGuard::KeyPrincipal(const users::ApiKey& key, const std::optional<UserFacts>& facts,
                                                      std::int64_t wall) const {
  if (!key.UsableAt(wall)) return std::nullopt;
  auto principal = PrincipalFor(key.user_id, facts, std::nullopt);
  if (!principal) return std::nullopt;
  principal->api_key_id = key.id;
  principal->key_sites = key.site_ids;
  return principal;
}

bool AuthGuard::TouchDue(const users::ApiKey& key, std::int64_t wall, bool claim) {
  const bool stale_in_db = !key.last_used_at || wall - *key.last_used_at >= options_.touch_interval_ms;
  if (!stale_in_db) return false;
  const std::int64_t now = steady_();
  std::lock_guard lock(mu_);
  auto it = touched_.find(key.id);
  if (it != touched_.end() && now - it->second < options_.touch_interval_ms) return false;
  if (claim) {
    if (touched_.size() >= options_.cache_max_users) touched_.clear();
    touched_[key.id] = now;
  }
  return true;
}

std::optional<std::optional<web::Principal>> AuthGuard::CachedApiKey(std::string_view key) {
  if (!key.starts_with(kApiKeyPrefix) || key.size() > 128) return std::optional<web::Principal>();
  const std::string hash = HashToken(key);
  std::optional<users::ApiKey> record;
  {
    const std::int64_t now = steady_();
    std::lock_guard lock(mu_);
    auto it = keys_.find(hash);
    if (it != keys_.end() && Fresh(it->second.loaded_at_ms, now)) record = it->second.key;
  }
  if (!record) return std::nullopt;
  const std::int64_t wall = tokens_.NowMs();
  if (!record->UsableAt(wall)) return std::optional<web::Principal>();
  auto facts = CachedFacts(record->user_id);
  if (!facts) return std::nullopt;
  if (TouchDue(*record, wall, false)) return std::nullopt;
  return KeyPrincipal(*record, facts, wall);
}

std::optional<web::Principal> AuthGuard::FromApiKey(std::string_view key) {
  if (!key.starts_with(kApiKeyPrefix) || key.size() > 128) return std::nullopt;
  if (auto cached = CachedApiKey(key)) return *cached;
  const std::string hash = HashToken(key);
  auto found = db_.ReadValue([&](soci::session& s) { return users::store::FindApiKeyByHash(s, hash); });
  if (!found) return std::nullopt;
  {
    const std::int64_t now = steady_();
    std::lock_guard lock(mu_);
    if (keys_.size() >= options_.cache_max_users) keys_.clear();
    keys_[hash] = KeyEntry{*found, now};
  }
  const std::int64_t wall = tokens_.NowMs();
  auto principal = KeyPrincipal(*found, Facts(found->user_id), wall);
  if (principal && TouchDue(*found, wall, true)) {
    db_.Write([&](soci::session& s) { users::store::TouchApiKey(s, found->id, wall); });
    std::lock_guard lock(mu_);
    if (auto it = keys_.find(hash); it != keys_.end()) it->second.key.last_used_at = wall;
  }
  return principal;
}

web::Middleware AuthGuard::Authenticate() {
  return [this](web::RequestContext& ctx, const web::Next& next) -> web::Task<web::Response> {
    std::string credential;
    bool via_cookie = false;
    if (auto header = ctx.request.headers.Get("Authorization")) {
      std::string_view h = *header;
      if (h.size() < 7 || !web::IEquals(h.substr(0, 7), "Bearer ")) {
        co_return Unauthorized(ctx, "The Authorization header must be \"Bearer <token>\".");
      }
      h.remove_prefix(7);
      while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
      while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
      credential = std::string(h);
      if (credential.empty()) co_return Unauthorized(ctx, "The bearer token is empty.");
    } else if (auto cookie = CookieValue(ctx.request, kAccessCookie); cookie && !cookie->empty()) {
      credential = std::move(*cookie);
      via_cookie = true;
    } else {
      co_return co_await next(ctx);
    }

    std::optional<web::Principal> principal;
    if (std::string_view(credential).starts_with(kApiKeyPrefix)) {
      if (auto cached = CachedApiKey(credential)) {
        principal = std::move(*cached);
      } else {
        principal = co_await blocking([this, &credential] { return FromApiKey(credential); });
      }
    } else {
      auto claims = tokens_.VerifyAccess(credential);
      if (claims) {
        auto facts = CachedFacts(claims->user_id);
        if (!facts) {
          const std::int64_t id = claims->user_id;
          facts = co_await blocking([this, id] { return Load(id); });
        }
        principal = PrincipalFor(claims->user_id, facts, claims->token_version);
      }
    }
    if (!principal) co_return Unauthorized(ctx, "The credentials are invalid or expired.");

    if (via_cookie) {
      principal->via_cookie = true;
      if (!IsSafeMethod(ctx.request.method)) {
        auto cookie = CookieValue(ctx.request, kCsrfCookie);
        auto header = ctx.request.headers.Get(kCsrfHeader);
        if (!cookie || cookie->empty() || !header || !crypto::ConstantTimeEquals(*cookie, *header)) {
          co_return Forbidden(ctx, "The CSRF token is missing or does not match.");
        }
      }
    }
    ctx.principal = std::move(principal);
    co_return co_await next(ctx);
  };
}

web::Middleware RequireUser() {
  return [](web::RequestContext& ctx, const web::Next& next) -> web::Task<web::Response> {
    if (!ctx.principal) co_return Anonymous(ctx);
    co_return co_await next(ctx);
  };
}

web::Middleware RequireSession() {
  return [](web::RequestContext& ctx, const web::Next& next) -> web::Task<web::Response> {
    if (!ctx.principal) co_return Anonymous(ctx);
    if (ctx.principal->api_key_id) co_return Forbidden(ctx, "This action needs a signed-in session, not an API key.");
    co_return co_await next(ctx);
  };
}

web::Middleware RequireAdmin() {
  return [](web::RequestContext& ctx, const web::Next& next) -> web::Task<web::Response> {
    if (!ctx.principal) co_return Anonymous(ctx);
    if (!ctx.principal->admin) co_return Forbidden(ctx, "This action is reserved to administrators.");
    co_return co_await next(ctx);
  };
}

web::Middleware RequireSiteAccess(SiteResolver resolver, std::string param) {
  return [resolver = std::move(resolver), param = std::move(param)](web::RequestContext& ctx,
                                                                    const web::Next& next) -> web::Task<web::Response> {
    if (!ctx.principal) co_return Anonymous(ctx);
    std::string key = ctx.Param(param);
    auto site = co_await blocking([&resolver, &key] { return resolver(key); });
    if (!site || !ctx.principal->CanAccessSite(*site)) {
      co_return ProblemFor(ctx, AppError::NotFound("No such site."));
    }
    ctx.site_id = *site;
    co_return co_await next(ctx);
  };
}

web::Middleware RequireSelfOrAdmin(std::string param) {
  return [param = std::move(param)](web::RequestContext& ctx, const web::Next& next) -> web::Task<web::Response> {
    if (!ctx.principal) co_return Anonymous(ctx);
    if (!ctx.principal->admin) {
      auto id = ParseId(ctx.Param(param));
      if (!id || *id != ctx.principal->user_id) co_return Forbidden(ctx, "You may only act on your own account.");
    }
    co_return co_await next(ctx);
  };
}

}  // namespace poste::auth
