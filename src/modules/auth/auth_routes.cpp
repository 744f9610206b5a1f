#include "modules/auth/auth_routes.hpp"

#include <nlohmann/json.hpp>

#include <memory>

#include "db/database.hpp"
#include "lib/async/blocking.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/crypto/random.hpp"
#include "lib/ratelimit/middleware.hpp"
#include "lib/web/json_body.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/auth/auth_http.hpp"
#include "modules/auth/auth_types.hpp"
#include "modules/users/users_store.hpp"

namespace poste::auth {

namespace {

ClientInfo ClientOf(const web::RequestContext& ctx) {
  std::string agent(ctx.request.headers.Get("User-Agent").value_or(""));
  if (agent.size() > 512) agent.resize(512);
  return {ctx.request.remote_ip, std::move(agent), ctx.request_id};
}

web::Response JsonResponse(int status, const nlohmann::json& body) {
  return web::Response::Json(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void SetSessionCookies(web::Response& r, const IssuedTokens& tokens, std::int64_t refresh_s, bool secure,
                       const std::string& csrf) {
  r.headers.Add("Set-Cookie",
                SetCookieValue({kAccessCookie, tokens.access_token, "/", tokens.expires_in_s, true, secure}));
  r.headers.Add("Set-Cookie",
                SetCookieValue({kRefreshCookie, tokens.refresh_token, kRefreshCookiePath, refresh_s, true, secure}));
  r.headers.Add("Set-Cookie", SetCookieValue({kCsrfCookie, csrf, "/", refresh_s, false, secure}));
}

void ClearSessionCookies(web::Response& r, bool secure) {
  r.headers.Add("Set-Cookie", SetCookieValue({kAccessCookie, "", "/", -1, true, secure}));
  r.headers.Add("Set-Cookie", SetCookieValue({kRefreshCookie, "", kRefreshCookiePath, -1, true, secure}));
  r.headers.Add("Set-Cookie", SetCookieValue({kCsrfCookie, "", "/", -1, false, secure}));
}

// RFC 9110 §15.5.2: a 401 names the scheme the client should use.
web::Response WithChallenge(web::Response r) {
  r.headers.Set("WWW-Authenticate", R"(Bearer realm="poste")");
  return r;
}

// The double-submit check for endpoints that read the refresh cookie (they run without Authenticate).
bool CsrfMatches(const web::Request& request) {
  auto cookie = CookieValue(request, kCsrfCookie);
  auto header = request.headers.Get(kCsrfHeader);
  return cookie && !cookie->empty() && header && crypto::ConstantTimeEquals(*cookie, *header);
}

std::optional<nlohmann::json> OptionalBody(const web::Request& request) {
  if (request.body.empty()) return std::nullopt;
  return web::ParseJsonBody(request);
}

std::int64_t ParseKeyId(const std::string& text) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos) {
    throw AppError::NotFound("No such API key.");
  }
  return std::stoll(text);
}

struct Shared {
  AuthDeps deps;
};

std::int64_t RefreshMaxAge(const Shared& shared) {
  return std::max<std::int64_t>(1, shared.deps.tokens.options().refresh_ttl_ms / 1000);
}

// Per-IP token bucket of its own in front of a sign-in route.
web::Middleware RateLimit(const std::shared_ptr<Shared>& shared, std::string name, ratelimit::Rule rule) {
  return ratelimit::LimitPerIp(shared->deps.limiter, {std::move(name), rule, {}, {}}, shared->deps.steady);
}

}  // namespace

void RegisterRoutes(web::Router& router, AuthDeps deps) {
  auto shared = std::make_shared<Shared>(Shared{std::move(deps)});
  const bool secure = shared->deps.options.secure_cookies;
  auto authenticate = shared->deps.authenticate;
  if (authenticate.empty()) authenticate.push_back(shared->deps.guard.Authenticate());
  auto auth = router.Group("/api/v1/auth", std::move(authenticate));
  // Sign-in, refresh and sign-out take their credential from the body (or the refresh cookie), never from an
  // access token: an expired access cookie must not stand in their way.
  auto open = router.Group("/api/v1/auth");
  constexpr std::size_t kSmallBody = 16 * 1024;

  open.Post("/login",
            [shared, secure](web::RequestContext& ctx) -> web::Task<web::Response> {
              auto body = ParseLoginBody(web::ParseJsonBody(ctx.request));
              LoginRequest request{body.email, body.password, body.totp, ClientOf(ctx)};
              LoginResult result;
              try {
                result = co_await blocking([&] { return shared->deps.login.Login(request); });
              } catch (const LockedOut& e) {
                auto r = ProblemFor(ctx, e);
                r.headers.Set("Retry-After", std::to_string(e.retry_after_s()));
                co_return r;
              } catch (const AppError& e) {
                if (e.status() != 401) throw;
                co_return WithChallenge(ProblemFor(ctx, e));
              }
              auto json = TokensJson(result.tokens, !body.cookie);
              json["user"] = users::ToJson(result.user);
              std::string csrf;
              if (body.cookie) {
                csrf = crypto::RandomToken(32);
                json["csrf_token"] = csrf;
              }
              auto r = JsonResponse(200, json);
              if (body.cookie) SetSessionCookies(r, result.tokens, RefreshMaxAge(*shared), secure, csrf);
              r.headers.Set("Cache-Control", "no-store");
              co_return r;
            },
            {kSmallBody}, {RateLimit(shared, "login", shared->deps.options.login_rule)});

  open.Post("/refresh",
            [shared, secure](web::RequestContext& ctx) -> web::Task<web::Response> {
              auto parsed = OptionalBody(ctx.request);
              auto body = ParseRefreshBody(parsed ? &*parsed : nullptr);
              bool cookie_mode = false;
              std::string token;
              if (body.refresh_token && !body.refresh_token->empty()) {
                token = *body.refresh_token;
                cookie_mode = body.cookie;
              } else if (auto c = CookieValue(ctx.request, kRefreshCookie); c && !c->empty()) {
                if (!CsrfMatches(ctx.request)) {
                  co_return ProblemFor(ctx,
                                       AppError(ErrorCode::kForbidden, "The CSRF token is missing or does not match."));
                }
                token = *c;
                cookie_mode = true;
              } else {
                throw AppError::Validation({{"refresh_token", "required", "is required (in the body or the cookie)"}});
              }
              auto client = ClientOf(ctx);
              IssuedTokens tokens;
              try {
                tokens = co_await blocking([&] { return shared->deps.tokens.Refresh(token, client); });
              } catch (const AppError& e) {
                if (e.status() != 401) throw;
                auto r = WithChallenge(ProblemFor(ctx, e));
                if (cookie_mode) ClearSessionCookies(r, secure);
                co_return r;
              }
              auto json = TokensJson(tokens, !cookie_mode);
              std::string csrf;
              if (cookie_mode) {
                csrf = crypto::RandomToken(32);
                json["csrf_token"] = csrf;
              }
              auto r = JsonResponse(200, json);
              if (cookie_mode) SetSessionCookies(r, tokens, RefreshMaxAge(*shared), secure, csrf);
              r.headers.Set("Cache-Control", "no-store");
              co_return r;
            },
            {kSmallBody}, {RateLimit(shared, "refresh", shared->deps.options.refresh_rule)});

  open.Post("/logout",
            [shared, secure](web::RequestContext& ctx) -> web::Task<web::Response> {
              auto parsed = OptionalBody(ctx.request);
              auto body = ParseRefreshBody(parsed ? &*parsed : nullptr);
              std::string token;
              bool from_cookie = false;
              if (body.refresh_token && !body.refresh_token->empty()) {
                token = *body.refresh_token;
              } else if (auto c = CookieValue(ctx.request, kRefreshCookie); c && !c->empty()) {
                if (!CsrfMatches(ctx.request)) {
                  co_return ProblemFor(ctx,
                                       AppError(ErrorCode::kForbidden, "The CSRF token is missing or does not match."));
                }
                token = *c;
                from_cookie = true;
              } else {
                throw AppError::Validation({{"refresh_token", "required", "is required (in the body or the cookie)"}});
              }
              // Idempotent: an unknown or already revoked token also answers 204, so logout reveals nothing.
              co_await blocking([&] { shared->deps.tokens.Logout(token); });
              auto r = web::Response::Empty(204);
              if (from_cookie || body.cookie) ClearSessionCookies(r, secure);
              co_return r;
            },
            {kSmallBody}, {RateLimit(shared, "refresh", shared->deps.options.refresh_rule)});

  auth.Get(
      "/me",
      [shared](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = ctx.principal->user_id;
        auto user = co_await blocking([&] {
          return shared->deps.database.ReadValue([&](soci::session& s) { return users::store::GetById(s, id); });
        });
        if (!user) throw AppError::NotFound("No such user.");
        auto json = users::ToJson(*user);
        json["auth"] = {
            {"method", ctx.principal->api_key_id ? "api_key" : (ctx.principal->via_cookie ? "cookie" : "bearer")},
            {"api_key_id", ctx.principal->api_key_id ? nlohmann::json(*ctx.principal->api_key_id) : nlohmann::json()}};
        co_return JsonResponse(200, json);
      },
      {}, {RequireUser()});

  auth.Get(
      "/api-keys",
      [shared](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = ctx.principal->user_id;
        auto keys = co_await blocking([&] { return shared->deps.credentials.ListApiKeys(id); });
        co_return JsonResponse(200, {{"items", web::ItemsJson(keys, [](const auto& k) { return users::ToJson(k); })}});
      },
      {}, {RequireUser()});

  auth.Post("/api-keys",
            [shared](web::RequestContext& ctx) -> web::Task<web::Response> {
              auto body = ParseApiKeyBody(web::ParseJsonBody(ctx.request), shared->deps.tokens.NowMs());
              const web::Principal caller = *ctx.principal;
              const auto origin = audit::OriginOf(ctx);
              auto created = co_await blocking([&] {
                return shared->deps.credentials.CreateApiKey(caller, origin, body.name, body.site_ids, body.expires_at,
                                                             shared->deps.site_exists);
              });
              auto json = users::ToJson(created.key);
              json["key"] = created.secret;
              auto r = JsonResponse(201, json);
              r.headers.Set("Cache-Control", "no-store");
              co_return r;
            },
            {kSmallBody}, {RequireSession()});

  auth.Delete("/api-keys/{id}",
              [shared](web::RequestContext& ctx) -> web::Task<web::Response> {
                const auto key_id = ParseKeyId(ctx.Param("id"));
                const auto user_id = ctx.principal->user_id;
                const auto origin = audit::OriginOf(ctx);
                bool ok =
                    co_await blocking([&] { return shared->deps.credentials.RevokeApiKey(user_id, key_id, origin); });
                if (!ok) throw AppError::NotFound("No such API key.");
                shared->deps.guard.ForgetApiKey(key_id);
                co_return web::Response::Empty(204);
              },
              {}, {RequireSession()});

  auth.Post("/totp/setup",
            [shared](web::RequestContext& ctx) -> web::Task<web::Response> {
              const auto id = ctx.principal->user_id;
              auto setup = co_await blocking([&] { return shared->deps.credentials.SetupTotp(id); });
              auto r = JsonResponse(200, {{"secret", setup.secret}, {"otpauth_uri", setup.uri}});
              r.headers.Set("Cache-Control", "no-store");
              co_return r;
            },
            {kSmallBody}, {RequireSession()});

  auth.Post("/totp/confirm",
            [shared](web::RequestContext& ctx) -> web::Task<web::Response> {
              auto code = ParseCode(web::ParseJsonBody(ctx.request), "code");
              const auto id = ctx.principal->user_id;
              const auto origin = audit::OriginOf(ctx);
              auto codes = co_await blocking([&] { return shared->deps.credentials.ConfirmTotp(id, code, origin); });
              shared->deps.guard.Invalidate(id);
              auto r = JsonResponse(200, {{"totp_enabled", true}, {"recovery_codes", codes}});
              r.headers.Set("Cache-Control", "no-store");
              co_return r;
            },
            {kSmallBody}, {RequireSession()});

  auth.Post("/totp/disable",
            [shared](web::RequestContext& ctx) -> web::Task<web::Response> {
              auto password = ParseCode(web::ParseJsonBody(ctx.request), "password");
              const auto id = ctx.principal->user_id;
              const auto origin = audit::OriginOf(ctx);
              co_await blocking([&] { shared->deps.credentials.DisableTotp(id, password, origin); });
              shared->deps.guard.Invalidate(id);
              co_return web::Response::Empty(204);
            },
            {kSmallBody}, {RequireSession()});
}

}  // namespace poste::auth
