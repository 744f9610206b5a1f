// /api/v1/auth/* and the auth guard, through the HTTP pipeline, on SQLite and PostgreSQL. The routes are
// composed here (router + pipeline + the auth module), the way src/app wires them, plus a few probe routes
// that exercise each permission middleware: a permission table of routes x callers with exact statuses.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "http/pipeline.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/jwt.hpp"
#include "lib/crypto/password.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/embedded.hpp"
#include "lib/ratelimit/memory_backoff.hpp"
#include "lib/ratelimit/memory_limiter.hpp"
#include "lib/web/router.hpp"
#include "modules/auth/auth_guard.hpp"
#include "modules/auth/auth_routes.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/users/users_store.hpp"
#include "support/db_fixture.hpp"
#include "support/run_task.hpp"

namespace poste::auth {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
const std::string kKey(32, 'j');
const std::string kPassword = "correct horse battery staple";

struct Row {
  std::string name;
  std::string method;
  std::string target;
  std::string caller;  // a key of AuthApi::callers_
  std::string body;
  int status;
};

class AuthApi : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    tokens_ = std::make_unique<TokenService>(db(), kKey);
    backoff_ = std::make_unique<ratelimit::MemoryBackoff>();
    login_ = std::make_unique<LoginService>(db(), *tokens_, *box_, *backoff_, *backoff_, params_);
    credentials_ = std::make_unique<CredentialsService>(db(), *tokens_, *box_);
    guard_ = std::make_unique<AuthGuard>(db(), *tokens_);
    limiter_ = std::make_unique<ratelimit::MemoryLimiter>();
    auto resolver = [this](std::string_view id_or_slug) -> std::optional<std::int64_t> {
      auto site = db().ReadValue([&](soci::session& s) { return sites::store::GetByIdOrSlug(s, id_or_slug); });
      if (!site) return std::nullopt;
      return site->id;
    };
    RegisterRoutes(router_,
                   {db(), *tokens_, *login_, *credentials_, *guard_, *limiter_, resolver, {}, SteadyNowMs, {}});
    // Probe routes, one per permission middleware.
    auto probe = router_.Group("/api/v1/probe", {guard_->Authenticate()});
    auto ok = [](web::RequestContext& ctx) -> web::Task<web::Response> {
      co_return web::Response::Json(200, nlohmann::json{{"site_id", ctx.site_id}}.dump());
    };
    probe.Get("/sites/{site}", ok, {}, {RequireSiteAccess(resolver)});
    probe.Get("/admin", ok, {}, {RequireAdmin()});
    probe.Get("/users/{id}", ok, {}, {RequireSelfOrAdmin("id")});
    probe.Post("/write", ok, {}, {RequireUser()});
    pipeline_ = std::make_unique<http::Pipeline>(router_, http::PipelineOptions{1 << 20, {}, false, false}, nullptr);

    site_a_ = AddSite("site-a");
    site_b_ = AddSite("site-b");
    admin_ = AddUser("admin@x.com", "admin", {});
    editor_a_ = AddUser("editor-a@x.com", "editor", {site_a_});
    editor_b_ = AddUser("editor-b@x.com", "editor", {site_b_});
    inactive_ = AddUser("inactive@x.com", "editor", {site_a_});

    callers_["anonymous"] = {};
    callers_["admin"] = Bearer(Login("admin@x.com")["access_token"]);
    callers_["editor_a"] = Bearer(Login("editor-a@x.com")["access_token"]);
    callers_["editor_b"] = Bearer(Login("editor-b@x.com")["access_token"]);
    callers_["inactive"] = Bearer(Login("inactive@x.com")["access_token"]);
    users::UserPatch off;
    off.active = false;
    db().Write([&](soci::session& s) { users::store::Update(s, inactive_, off, 1); });

    const std::int64_t now_s = std::time(nullptr);
    nlohmann::json expired = {{"sub", std::to_string(admin_)},
                              {"ver", 0},
                              {"iss", "poste"},
                              {"aud", "poste-api"},
                              {"iat", now_s - 3600},
                              {"nbf", now_s - 3600},
                              {"exp", now_s - 60}};
    callers_["expired"] = Bearer(crypto::SignJwt(expired, kKey));
    // An editor's token whose payload claims the admin's id, the signature left as it was.
    std::string editor = callers_["editor_a"][0].second.substr(7);
    auto dot1 = editor.find('.'), dot2 = editor.rfind('.');
    auto claims = nlohmann::json::parse(*crypto::Base64UrlDecode(editor.substr(dot1 + 1, dot2 - dot1 - 1)));
    claims["sub"] = std::to_string(admin_);
    callers_["tampered"] =
        Bearer(editor.substr(0, dot1) + "." + crypto::Base64UrlEncode(claims.dump()) + editor.substr(dot2));
    callers_["alg_none"] = Bearer(crypto::Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." +
                                  crypto::Base64UrlEncode(claims.dump()) + ".");
    callers_["foreign_key"] = Bearer(crypto::SignJwt(claims, std::string(32, 'x')));
    callers_["basic"] = {{"Authorization", "Basic YWRtaW46YWRtaW4="}};
    // An admin's API key limited to site B.
    auto key = Call("POST", "/api/v1/auth/api-keys", callers_["admin"],
                    nlohmann::json{{"name", "deploy"}, {"site_ids", {site_b_}}}.dump());
    ASSERT_EQ(key.status, 201) << key.body;
    admin_key_id_ = nlohmann::json::parse(key.body)["id"].get<std::int64_t>();
    callers_["api_key_b"] = Bearer(nlohmann::json::parse(key.body)["key"]);
    callers_["revoked_key"] = Bearer("pst_" + std::string(43, 'A'));
  }

  void TearDown() override {
    pipeline_.reset();
    DbTest::TearDown();
  }

  static Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite site;
    site.slug = slug;
    site.name = slug;
    return db().WriteValue([&](soci::session& s) { return sites::store::Insert(s, site, 1); });
  }

  std::int64_t AddUser(const std::string& email, const std::string& role, std::vector<std::int64_t> sites) {
    users::NewUser u;
    u.email = email;
    u.name = email;
    u.password_hash = crypto::HashPassword(kPassword, params_);
    u.role = role;
    u.site_ids = std::move(sites);
    return db().WriteValue([&](soci::session& s) { return users::store::Insert(s, u, 1); });
  }

  web::Response Call(const std::string& method, const std::string& target, const Headers& headers = {},
                     const std::string& body = {}, const std::string& ip = "127.0.0.1") {
    web::Request request;
    request.method = method;
    request.target = target;
    web::SplitTarget(target, request.path, request.query);
    for (const auto& [k, v] : headers) request.headers.Add(k, v);
    if (!body.empty()) request.headers.Set("Content-Type", "application/json");
    request.body = body;
    request.remote_ip = ip;
    return poste::testing::RunTask(pipeline_->Handle(request));
  }

  nlohmann::json Login(const std::string& email, const std::string& ip = "127.0.0.1") {
    auto r =
        Call("POST", "/api/v1/auth/login", {}, nlohmann::json{{"email", email}, {"password", kPassword}}.dump(), ip);
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body);
  }

  void RunTable(const std::vector<Row>& rows) {
    for (const auto& row : rows) {
      SCOPED_TRACE(row.name + ": " + row.caller + " " + row.method + " " + row.target);
      ASSERT_TRUE(callers_.count(row.caller)) << "unknown caller";
      auto r = Call(row.method, row.target, callers_[row.caller], row.body);
      EXPECT_EQ(r.status, row.status) << r.body;
      if (r.status == 401) {
        EXPECT_TRUE(r.headers.Get("WWW-Authenticate").value_or("").starts_with("Bearer")) << "no WWW-Authenticate";
      }
      if (r.status >= 400) {
        EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
      }
    }
  }

  crypto::PasswordParams params_{1, 8 * 1024};
  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<TokenService> tokens_;
  std::unique_ptr<ratelimit::MemoryBackoff> backoff_;
  std::unique_ptr<LoginService> login_;
  std::unique_ptr<CredentialsService> credentials_;
  std::unique_ptr<AuthGuard> guard_;
  std::unique_ptr<ratelimit::MemoryLimiter> limiter_;
  web::Router router_;
  std::unique_ptr<http::Pipeline> pipeline_;
  std::int64_t site_a_ = 0, site_b_ = 0, admin_ = 0, editor_a_ = 0, editor_b_ = 0, inactive_ = 0, admin_key_id_ = 0;
  std::map<std::string, Headers> callers_;
};

const std::vector<std::string> kBadCallers = {"inactive",    "expired", "tampered",   "alg_none",
                                              "foreign_key", "basic",   "revoked_key"};

TEST_P(AuthApi, PermissionTable) {
  const std::string a = std::to_string(site_a_), b = std::to_string(site_b_);
  std::vector<Row> rows = {
      // Who am I.
      {"me", "GET", "/api/v1/auth/me", "anonymous", "", 401},
      {"me", "GET", "/api/v1/auth/me", "editor_a", "", 200},
      {"me", "GET", "/api/v1/auth/me", "admin", "", 200},
      {"me", "GET", "/api/v1/auth/me", "api_key_b", "", 200},
      // API keys.
      {"list keys", "GET", "/api/v1/auth/api-keys", "anonymous", "", 401},
      {"list keys", "GET", "/api/v1/auth/api-keys", "editor_a", "", 200},
      {"list keys", "GET", "/api/v1/auth/api-keys", "admin", "", 200},
      {"list keys", "GET", "/api/v1/auth/api-keys", "api_key_b", "", 200},
      {"create key", "POST", "/api/v1/auth/api-keys", "anonymous", R"({"name":"k"})", 401},
      {"create key", "POST", "/api/v1/auth/api-keys", "editor_a", R"({"name":"k"})", 201},
      {"create key own site", "POST", "/api/v1/auth/api-keys", "editor_a", R"({"name":"k","site_ids":[)" + a + "]}",
       201},
      {"create key other site", "POST", "/api/v1/auth/api-keys", "editor_a", R"({"name":"k","site_ids":[)" + b + "]}",
       422},
      {"create key no site", "POST", "/api/v1/auth/api-keys", "admin", R"({"name":"k","site_ids":[999]})", 422},
      {"create key bad body", "POST", "/api/v1/auth/api-keys", "editor_a", R"({"name":""})", 422},
      {"create key", "POST", "/api/v1/auth/api-keys", "admin", R"({"name":"k"})", 201},
      {"create key with a key", "POST", "/api/v1/auth/api-keys", "api_key_b", R"({"name":"k"})", 403},
      {"delete other's key", "DELETE", "/api/v1/auth/api-keys/" + std::to_string(admin_key_id_), "editor_a", "", 404},
      {"delete key anonymous", "DELETE", "/api/v1/auth/api-keys/" + std::to_string(admin_key_id_), "anonymous", "",
       401},
      {"delete key with a key", "DELETE", "/api/v1/auth/api-keys/" + std::to_string(admin_key_id_), "api_key_b", "",
       403},
      {"delete no key", "DELETE", "/api/v1/auth/api-keys/abc", "admin", "", 404},
      // TOTP.
      {"totp setup", "POST", "/api/v1/auth/totp/setup", "anonymous", "", 401},
      {"totp setup", "POST", "/api/v1/auth/totp/setup", "api_key_b", "", 403},
      {"totp setup", "POST", "/api/v1/auth/totp/setup", "editor_b", "", 200},
      {"totp confirm wrong", "POST", "/api/v1/auth/totp/confirm", "editor_b", R"({"code":"12345x"})", 422},
      {"totp confirm nothing pending", "POST", "/api/v1/auth/totp/confirm", "editor_a", R"({"code":"123456"})", 409},
      {"totp confirm", "POST", "/api/v1/auth/totp/confirm", "anonymous", R"({"code":"123456"})", 401},
      {"totp disable wrong password", "POST", "/api/v1/auth/totp/disable", "editor_a", R"({"password":"no"})", 422},
      {"totp disable", "POST", "/api/v1/auth/totp/disable", "anonymous", R"({"password":"no"})", 401},
      // Permission middleware on probe routes.
      {"site A by id", "GET", "/api/v1/probe/sites/" + a, "editor_a", "", 200},
      {"site A by slug", "GET", "/api/v1/probe/sites/site-a", "editor_a", "", 200},
      {"site B hidden", "GET", "/api/v1/probe/sites/" + b, "editor_a", "", 404},
      {"site B hidden by slug", "GET", "/api/v1/probe/sites/site-b", "editor_a", "", 404},
      {"no such site", "GET", "/api/v1/probe/sites/999", "editor_a", "", 404},
      {"site B", "GET", "/api/v1/probe/sites/" + b, "editor_b", "", 200},
      {"admin site A", "GET", "/api/v1/probe/sites/" + a, "admin", "", 200},
      {"admin site B", "GET", "/api/v1/probe/sites/site-b", "admin", "", 200},
      {"key outside its scope", "GET", "/api/v1/probe/sites/" + a, "api_key_b", "", 404},
      {"key inside its scope", "GET", "/api/v1/probe/sites/" + b, "api_key_b", "", 200},
      {"site anonymous", "GET", "/api/v1/probe/sites/" + a, "anonymous", "", 401},
      {"admin only", "GET", "/api/v1/probe/admin", "editor_a", "", 403},
      {"admin only", "GET", "/api/v1/probe/admin", "admin", "", 200},
      {"admin only", "GET", "/api/v1/probe/admin", "api_key_b", "", 200},
      {"admin only", "GET", "/api/v1/probe/admin", "anonymous", "", 401},
      {"self", "GET", "/api/v1/probe/users/" + std::to_string(editor_a_), "editor_a", "", 200},
      {"other user", "GET", "/api/v1/probe/users/" + std::to_string(editor_b_), "editor_a", "", 403},
      {"other user", "GET", "/api/v1/probe/users/" + std::to_string(editor_b_), "admin", "", 200},
      {"self anonymous", "GET", "/api/v1/probe/users/1", "anonymous", "", 401},
      // Sign-in and sessions.
      {"login no body", "POST", "/api/v1/auth/login", "anonymous", "", 400},
      {"login missing fields", "POST", "/api/v1/auth/login", "anonymous", R"({"email":"admin@x.com"})", 422},
      {"login wrong type", "POST", "/api/v1/auth/login", "anonymous", R"({"email":1,"password":true})", 422},
      {"login not an object", "POST", "/api/v1/auth/login", "anonymous", R"(["admin@x.com"])", 422},
      {"refresh missing", "POST", "/api/v1/auth/refresh", "anonymous", "", 422},
      {"refresh unknown", "POST", "/api/v1/auth/refresh", "anonymous", R"({"refresh_token":"nope"})", 401},
      {"logout unknown", "POST", "/api/v1/auth/logout", "anonymous", R"({"refresh_token":"nope"})", 204},
  };
  // Every bad credential is 401 on every route that reads one, whatever the route asks.
  for (const auto& bad : kBadCallers) {
    for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
             {"GET", "/api/v1/auth/me"},
             {"GET", "/api/v1/auth/api-keys"},
             {"POST", "/api/v1/auth/api-keys"},
             {"DELETE", "/api/v1/auth/api-keys/1"},
             {"POST", "/api/v1/auth/totp/setup"},
             {"POST", "/api/v1/auth/totp/confirm"},
             {"POST", "/api/v1/auth/totp/disable"},
             {"GET", "/api/v1/probe/sites/" + a},
             {"GET", "/api/v1/probe/admin"},
             {"GET", "/api/v1/probe/users/" + std::to_string(admin_)},
         }) {
      rows.push_back({"bad credential", method, target, bad, method == "GET" || method == "DELETE" ? "" : "{}", 401});
    }
  }
  RunTable(rows);
  // The key created above ran as the admin (api_key_b is the admin's): "me" says how the caller came in.
  auto me = Call("GET", "/api/v1/auth/me", callers_["api_key_b"]);
  auto json = nlohmann::json::parse(me.body);
  EXPECT_EQ(json["id"], admin_);
  EXPECT_EQ(json["auth"]["method"], "api_key");
  EXPECT_EQ(json["auth"]["api_key_id"], admin_key_id_);
  EXPECT_FALSE(json.contains("password_hash"));
}

TEST_P(AuthApi, LoginAnswersAndErrors) {
  auto r = Call("POST", "/api/v1/auth/login", {},
                nlohmann::json{{"email", "EDITOR-A@x.com"}, {"password", kPassword}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto json = nlohmann::json::parse(r.body);
  EXPECT_EQ(json["token_type"], "Bearer");
  EXPECT_EQ(json["expires_in"], 900);
  EXPECT_TRUE(json["access_token"].is_string());
  EXPECT_TRUE(json["refresh_token"].is_string());
  EXPECT_EQ(json["user"]["id"], editor_a_);
  EXPECT_EQ(json["user"]["site_ids"], nlohmann::json::array({site_a_}));
  EXPECT_FALSE(r.headers.Has("Set-Cookie"));
  EXPECT_EQ(r.headers.Get("Cache-Control").value_or(""), "no-store");
  EXPECT_TRUE(r.headers.Has("RateLimit-Limit"));

  std::string bodies[] = {
      nlohmann::json{{"email", "nobody@x.com"}, {"password", kPassword}}.dump(),
      nlohmann::json{{"email", "editor-a@x.com"}, {"password", "wrong"}}.dump(),
      nlohmann::json{{"email", "inactive@x.com"}, {"password", kPassword}}.dump(),
  };
  std::string first;
  for (const auto& body : bodies) {
    auto fail = Call("POST", "/api/v1/auth/login", {}, body, "198.51.100.9");
    EXPECT_EQ(fail.status, 401);
    auto detail = nlohmann::json::parse(fail.body)["detail"].get<std::string>();
    if (first.empty()) first = detail;
    EXPECT_EQ(detail, first);  // one answer: no account enumeration
  }
}

TEST_P(AuthApi, LockoutAnswers429WithRetryAfter) {
  const std::string wrong = nlohmann::json{{"email", "editor-b@x.com"}, {"password", "wrong"}}.dump();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(Call("POST", "/api/v1/auth/login", {}, wrong, "203.0.113.50").status, 401);
  const std::string right = nlohmann::json{{"email", "editor-b@x.com"}, {"password", kPassword}}.dump();
  auto r = Call("POST", "/api/v1/auth/login", {}, right, "203.0.113.51");
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.headers.Get("Retry-After").value_or(""), "60");
  EXPECT_NE(r.body.find("too-many-requests"), std::string::npos) << r.body;
}

TEST_P(AuthApi, LoginIsRateLimitedPerIp) {
  int limited = 0;
  web::Response last;
  for (int i = 0; i < 11; ++i) {
    // 422s (password not a string): they take from the bucket but are no failed sign-ins, so the IP's
    // failure streak never locks it and only the limiter can answer 429.
    last = Call("POST", "/api/v1/auth/login", {}, R"({"email":"x)" + std::to_string(i) + R"(@x.com","password":1})",
                "192.0.2.200");
    if (last.status == 429) ++limited;
  }
  EXPECT_EQ(limited, 1);  // the 11th of a burst of 10 (422s count too: the bucket is taken first)
  EXPECT_EQ(last.status, 429);
  EXPECT_EQ(last.headers.Get("RateLimit-Remaining").value_or(""), "0");
  EXPECT_TRUE(last.headers.Has("Retry-After"));
  // Another client still gets in.
  Login("admin@x.com", "192.0.2.201");
}

TEST_P(AuthApi, RefreshRotationAndReuseThroughTheApi) {
  auto session = Login("editor-a@x.com");
  const std::string first = session["refresh_token"];
  auto r = Call("POST", "/api/v1/auth/refresh", {}, nlohmann::json{{"refresh_token", first}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string second = nlohmann::json::parse(r.body)["refresh_token"];
  const std::string access = nlohmann::json::parse(r.body)["access_token"];
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", Bearer(access)).status, 200);
  // The old token again: reuse, the family is revoked, the newer token dies too.
  EXPECT_EQ(Call("POST", "/api/v1/auth/refresh", {}, nlohmann::json{{"refresh_token", first}}.dump()).status, 401);
  EXPECT_EQ(Call("POST", "/api/v1/auth/refresh", {}, nlohmann::json{{"refresh_token", second}}.dump()).status, 401);

  auto other = Login("editor-a@x.com");
  EXPECT_EQ(
      Call("POST", "/api/v1/auth/logout", {}, nlohmann::json{{"refresh_token", other["refresh_token"]}}.dump()).status,
      204);
  EXPECT_EQ(
      Call("POST", "/api/v1/auth/refresh", {}, nlohmann::json{{"refresh_token", other["refresh_token"]}}.dump()).status,
      401);
}

TEST_P(AuthApi, TokenVersionBumpAndGuardInvalidation) {
  auto token = callers_["editor_a"];
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", token).status, 200);
  db().Write([&](soci::session& s) { users::store::BumpTokenVersion(s, editor_a_); });
  guard_->Invalidate(editor_a_);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", token).status, 401);
}

TEST_P(AuthApi, RevokedApiKeyStopsWorking) {
  auto key = callers_["api_key_b"];
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", key).status, 200);
  EXPECT_EQ(Call("DELETE", "/api/v1/auth/api-keys/" + std::to_string(admin_key_id_), callers_["admin"]).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", key).status, 401);
  auto list = Call("GET", "/api/v1/auth/api-keys", callers_["admin"]);
  auto items = nlohmann::json::parse(list.body)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_FALSE(items[0]["revoked_at"].is_null());
  EXPECT_FALSE(items[0].contains("key"));  // shown once, at creation only
  EXPECT_EQ(items[0]["prefix"].get<std::string>().substr(0, 4), "pst_");
  EXPECT_FALSE(items[0]["last_used_at"].is_null());  // touched by the call above
}

std::string CookieFrom(const web::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers.All()) {
    if (web::IEquals(k, "Set-Cookie") && v.starts_with(name + "=")) return v;
  }
  return {};
}

std::string ValueOf(const std::string& set_cookie) {
  auto eq = set_cookie.find('='), semi = set_cookie.find(';');
  return set_cookie.substr(eq + 1, semi - eq - 1);
}

TEST_P(AuthApi, BrowserModeCookiesAndCsrf) {
  auto r = Call("POST", "/api/v1/auth/login", {},
                nlohmann::json{{"email", "editor-a@x.com"}, {"password", kPassword}, {"cookie", true}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  auto json = nlohmann::json::parse(r.body);
  EXPECT_FALSE(json.contains("access_token"));  // browser mode: the tokens live in HttpOnly cookies only
  EXPECT_FALSE(json.contains("refresh_token"));
  const auto access = CookieFrom(r, "poste_access"), refresh = CookieFrom(r, "poste_refresh"),
             csrf = CookieFrom(r, "poste_csrf");
  EXPECT_NE(access.find("HttpOnly"), std::string::npos);
  EXPECT_NE(access.find("SameSite=Lax"), std::string::npos);
  EXPECT_NE(access.find("Path=/;"), std::string::npos);
  EXPECT_EQ(access.find("Secure"), std::string::npos);  // not over TLS in this composition
  EXPECT_NE(refresh.find("Path=/api/v1/auth"), std::string::npos);
  EXPECT_NE(refresh.find("HttpOnly"), std::string::npos);
  EXPECT_EQ(csrf.find("HttpOnly"), std::string::npos);
  EXPECT_EQ(json["csrf_token"], ValueOf(csrf));

  const std::string cookies = "poste_access=" + ValueOf(access) + "; poste_csrf=" + ValueOf(csrf);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", {{"Cookie", cookies}}).status, 200);
  EXPECT_EQ(Call("POST", "/api/v1/probe/write", {{"Cookie", cookies}}).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/probe/write", {{"Cookie", cookies}, {"X-CSRF-Token", "forged"}}).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/probe/write", {{"Cookie", cookies}, {"X-CSRF-Token", ValueOf(csrf)}}).status, 200);
  // A bearer token needs no CSRF token (no ambient credential).
  EXPECT_EQ(Call("POST", "/api/v1/probe/write", callers_["editor_a"]).status, 200);

  const std::string refresh_cookies = "poste_refresh=" + ValueOf(refresh) + "; poste_csrf=" + ValueOf(csrf);
  EXPECT_EQ(Call("POST", "/api/v1/auth/refresh", {{"Cookie", refresh_cookies}}).status, 403);
  auto renewed = Call("POST", "/api/v1/auth/refresh", {{"Cookie", refresh_cookies}, {"X-CSRF-Token", ValueOf(csrf)}});
  ASSERT_EQ(renewed.status, 200) << renewed.body;
  EXPECT_FALSE(nlohmann::json::parse(renewed.body).contains("refresh_token"));
  const auto refresh2 = CookieFrom(renewed, "poste_refresh"), csrf2 = CookieFrom(renewed, "poste_csrf");
  EXPECT_NE(ValueOf(refresh2), ValueOf(refresh));

  auto out = Call("POST", "/api/v1/auth/logout",
                  {{"Cookie", "poste_refresh=" + ValueOf(refresh2) + "; poste_csrf=" + ValueOf(csrf2)},
                   {"X-CSRF-Token", ValueOf(csrf2)}});
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(CookieFrom(out, "poste_access").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(
      Call("POST", "/api/v1/auth/refresh", {}, nlohmann::json{{"refresh_token", ValueOf(refresh2)}}.dump()).status,
      401);
}

// Until the app registers these routes, SystemApi's whole-router check cannot see them: hold the auth part of
// docs/openapi.yaml against the routes RegisterRoutes adds, both ways.
TEST_P(AuthApi, OpenApiDocumentsEveryAuthRoute) {
  nlohmann::json doc;
  for (const auto& file : embedded::OpenApi()) {
    if (file.path == "openapi.json") doc = nlohmann::json::parse(file.bytes);
  }
  ASSERT_TRUE(doc.contains("paths"));
  std::set<std::string> documented, routed;
  for (auto& [path, item] : doc["paths"].items()) {
    if (!path.starts_with("/api/v1/auth/")) continue;
    for (auto& [method, op] : item.items()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(upper + " " + path);
    }
  }
  for (const auto& route : router_.Routes()) {
    if (route->pattern.starts_with("/api/v1/auth/")) routed.insert(route->method + " " + route->pattern);
  }
  EXPECT_EQ(routed.size(), 10u);
  EXPECT_EQ(documented, routed);
}

POSTE_INSTANTIATE_DB_TEST(AuthApi);

}  // namespace
}  // namespace poste::auth
