// The permission table of issue 3 with the REAL authentication: the whole App (auth guard, users, sites,
// settings, audit, auth routes) on a fresh SQLite and PostgreSQL database. Every documented identity route
// runs for every kind of caller (anonymous, editor of site A, editor of site B, admin, inactive user, expired
// token, tampered token, alg=none token, revoked refresh token, API keys used outside their scope) and the
// exact status is asserted. A route documented in docs/openapi.yaml without a row here fails the test.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <array>
#include <cctype>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "http/pipeline.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/crypto/jwt.hpp"
#include "lib/crypto/master_key.hpp"
#include "lib/crypto/password.hpp"
#include "lib/crypto/secret_box.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/users/users_store.hpp"
#include "scenario.hpp"
#include "support/run_task.hpp"

namespace poste::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
constexpr const char* kPassword = "correct horse battery staple";

// The columns of the table, in the order every row lists its statuses.
enum Caller {
  kAnonymous,
  kEditorA,
  kEditorB,
  kAdmin,
  kInactive,
  kExpired,
  kTampered,
  kAlgNone,
  kRevokedRefresh,
  kKeyA,       // editor A's API key, scoped to site A
  kAdminKeyB,  // the admin's API key, scoped to site B (so site A is "another site" for it)
  kCallers
};
const char* const kCallerNames[kCallers] = {"anonymous", "editor_a",        "editor_b", "admin",
                                            "inactive",  "expired",         "tampered", "alg_none",
                                            "revoked_refresh", "api_key_a", "admin_api_key_b"};

// One route with a status for each caller (-1: not run for that caller, with the reason in a comment).
// Placeholders in target and body, replaced per call so that each cell stands alone:
//   {n}           a counter unique per call (emails, slugs)
//   {c}           the caller's name (a setting key seeded for each caller)
//   {victim_user} a fresh editor created just before the call
//   {victim_site} a fresh site created just before the call
//   {own_key}     a fresh API key of editor A created just before the call
//   {refresh}     the caller's refresh token (in bodies)
struct Row {
  std::string method, target, body;
  std::array<int, kCallers> status;
};

class PermissionsApi : public ApiTest {
 protected:
  void SetUp() override {
    master_key_ = crypto::GenerateSecretKey();
    ::setenv("POSTE_MASTER_KEY", crypto::FormatMasterKey(master_key_).c_str(), 1);
    ApiTest::SetUp();
    ::unsetenv("POSTE_MASTER_KEY");
    signing_key_ = crypto::HmacSha256(crypto::AsStringView(master_key_), "poste/jwt-hs256/v1");

    site_a_ = AddSite("alpha");
    site_b_ = AddSite("beta");
    admin_ = AddUser("root@example.com", "admin", {});
    editor_a_ = AddUser("ed-a@example.com", "editor", {site_a_});
    editor_b_ = AddUser("ed-b@example.com", "editor", {site_b_});
    inactive_ = AddUser("gone@example.com", "editor", {site_a_});

    auto admin = Login("root@example.com");
    auto ed_a = Login("ed-a@example.com");
    auto ed_b = Login("ed-b@example.com");
    auto gone = Login("gone@example.com");
    ASSERT_FALSE(HasFatalFailure());
    SetCaller(kAdmin, admin);
    SetCaller(kEditorA, ed_a);
    SetCaller(kEditorB, ed_b);
    SetCaller(kInactive, gone);
    callers_[kAnonymous] = {};
    refresh_[kAnonymous] = "an-unknown-refresh-token";

    // The inactive user signed in while active, then an admin disabled the account.
    auto off = Call("PATCH", "/api/v1/users/" + std::to_string(inactive_), callers_[kAdmin], R"({"active":false})");
    ASSERT_EQ(off.status, 200) << off.body;

    // Tokens signed with the app's own key: a valid one (checks the key) and an expired one.
    const std::int64_t now_s = std::time(nullptr);
    auto claims = [&](std::int64_t user, std::int64_t exp) {
      return nlohmann::json{{"sub", std::to_string(user)},
                            {"ver", 0},
                            {"iss", "poste"},
                            {"aud", "poste-api"},
                            {"iat", exp - 900},
                            {"nbf", exp - 900},
                            {"exp", exp},
                            {"jti", "t" + std::to_string(exp)}};
    };
    auto valid = Call("GET", "/api/v1/auth/me", Bearer(crypto::SignJwt(claims(editor_a_, now_s + 600), signing_key_)));
    ASSERT_EQ(valid.status, 200) << "a token signed with the derived key must be accepted: " << valid.body;
    callers_[kExpired] = Bearer(crypto::SignJwt(claims(editor_a_, now_s - 60), signing_key_));
    refresh_[kExpired] = callers_[kExpired][0].second.substr(7);

    // Tampered: editor A's real token, one payload byte flipped (the signature left as it was).
    std::string token = callers_[kEditorA][0].second.substr(7);
    auto dot1 = token.find('.'), dot2 = token.rfind('.');
    std::string payload = *crypto::Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1));
    auto sub = payload.find("\"sub\":\"");
    ASSERT_NE(sub, std::string::npos) << payload;
    payload[sub + 7] = payload[sub + 7] == '1' ? '2' : '1';  // now another user's id
    callers_[kTampered] =
        Bearer(token.substr(0, dot1) + "." + crypto::Base64UrlEncode(payload) + token.substr(dot2));
    refresh_[kTampered] = callers_[kTampered][0].second.substr(7);
    // alg=none: the admin's claims, valid in every other way, no signature.
    callers_[kAlgNone] = Bearer(crypto::Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." +
                                crypto::Base64UrlEncode(claims(admin_, now_s + 600).dump()) + ".");
    refresh_[kAlgNone] = callers_[kAlgNone][0].second.substr(7);

    // A refresh token rotated once, then presented again: the reuse is refused and revokes the family.
    auto session = Login("ed-b@example.com");
    ASSERT_FALSE(HasFatalFailure());
    const std::string old_refresh = session["refresh_token"];
    auto rotated = Call("POST", "/api/v1/auth/refresh", {}, nlohmann::json{{"refresh_token", old_refresh}}.dump());
    ASSERT_EQ(rotated.status, 200) << rotated.body;
    auto reuse = Call("POST", "/api/v1/auth/refresh", {}, nlohmann::json{{"refresh_token", old_refresh}}.dump());
    ASSERT_EQ(reuse.status, 401) << reuse.body;
    const std::string new_refresh = nlohmann::json::parse(rotated.body)["refresh_token"];
    auto family = Call("POST", "/api/v1/auth/refresh", {}, nlohmann::json{{"refresh_token", new_refresh}}.dump());
    EXPECT_EQ(family.status, 401) << "reusing a rotated token must revoke its whole family: " << family.body;
    callers_[kRevokedRefresh] = Bearer(old_refresh);  // what such a caller can present as a credential
    refresh_[kRevokedRefresh] = old_refresh;

    // API keys, each limited to one site.
    callers_[kKeyA] = Bearer(CreateKey(kEditorA, {site_a_}));
    refresh_[kKeyA] = callers_[kKeyA][0].second.substr(7);
    callers_[kAdminKeyB] = Bearer(CreateKey(kAdmin, {site_b_}));
    refresh_[kAdminKeyB] = callers_[kAdminKeyB][0].second.substr(7);

    // A setting per caller on each site, for the DELETE setting rows.
    for (const char* site : {"alpha", "beta"}) {
      for (const char* name : kCallerNames) {
        auto r = Call("PUT", std::string("/api/v1/sites/") + site + "/settings/seed." + name, callers_[kAdmin],
                      R"({"value":"v"})");
        ASSERT_EQ(r.status, 200) << r.body;
      }
    }
  }

  void TearDown() override { ApiTest::TearDown(); }

  static Headers Bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

  void SetCaller(Caller c, const nlohmann::json& login) {
    callers_[c] = Bearer(login["access_token"]);
    refresh_[c] = login["refresh_token"];
  }

  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite site;
    site.slug = slug;
    site.name = slug;
    site.domains = {slug + ".example.com"};
    return db().WriteValue([&](soci::session& s) { return sites::store::Insert(s, site, 1); });
  }

  std::int64_t AddUser(const std::string& email, const std::string& role, std::vector<std::int64_t> sites) {
    users::NewUser u;
    u.email = email;
    u.name = email;
    u.password_hash = crypto::HashPassword(kPassword);
    u.role = role;
    u.site_ids = std::move(sites);
    return db().WriteValue([&](soci::session& s) { return users::store::Insert(s, u, 1); });
  }

  // Like ApiTest::Call, with a JSON body's Content-Type and a chosen client address (the login and refresh
  // limits are per IP: the table spreads its calls over many addresses).
  web::Response Call(const std::string& method, const std::string& target, const Headers& headers = {},
                     const std::string& body = {}, const std::string& ip = "192.0.2.1") {
    web::Request request;
    request.method = method;
    request.target = target;
    web::SplitTarget(target, request.path, request.query);
    for (const auto& [k, v] : headers) request.headers.Add(k, v);
    if (!body.empty()) request.headers.Set("Content-Type", "application/json");
    request.body = body;
    request.remote_ip = ip;
    return RunTask(application().pipeline().Handle(request));
  }

  nlohmann::json Login(const std::string& email) {
    auto r = Call("POST", "/api/v1/auth/login", {}, nlohmann::json{{"email", email}, {"password", kPassword}}.dump(),
                  "192.0.2." + std::to_string(++login_ip_));
    EXPECT_EQ(r.status, 200) << email << ": " << r.body;
    if (r.status != 200) return nlohmann::json{{"access_token", ""}, {"refresh_token", ""}};
    return nlohmann::json::parse(r.body);
  }

  std::string CreateKey(Caller owner, const std::vector<std::int64_t>& sites, std::int64_t* id = nullptr) {
    auto r = Call("POST", "/api/v1/auth/api-keys", callers_[owner],
                  nlohmann::json{{"name", "key " + std::to_string(++counter_)}, {"site_ids", sites}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    if (r.status != 201) return "pst_missing";
    auto j = nlohmann::json::parse(r.body);
    if (id) *id = j["id"].get<std::int64_t>();
    return j["key"];
  }

  static void Replace(std::string& s, const std::string& from, const std::string& to) {
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
      s.replace(pos, from.size(), to);
    }
  }

  std::string Expand(std::string s, int caller) {
    Replace(s, "{n}", std::to_string(++counter_));
    Replace(s, "{c}", kCallerNames[caller]);
    Replace(s, "{refresh}", refresh_[caller]);
    if (s.find("{victim_user}") != std::string::npos) {
      Replace(s, "{victim_user}",
              std::to_string(AddUser("victim" + std::to_string(++counter_) + "@example.com", "editor", {site_a_})));
    }
    if (s.find("{victim_site}") != std::string::npos) {
      Replace(s, "{victim_site}", std::to_string(AddSite("victim-" + std::to_string(++counter_))));
    }
    if (s.find("{own_key}") != std::string::npos) {
      std::int64_t id = 0;
      CreateKey(kEditorA, {site_a_}, &id);
      Replace(s, "{own_key}", std::to_string(id));
    }
    return s;
  }

  // Runs every cell; returns the failing cells as "caller METHOD target: expected X, got Y".
  std::vector<std::string> RunTable(const std::vector<Row>& rows) {
    std::vector<std::string> failures;
    int call = 0;
    for (const auto& row : rows) {
      for (int c = 0; c < kCallers; ++c) {
        if (row.status[c] < 0) continue;
        std::string target = Expand(row.target, c);
        std::string body = Expand(row.body, c);
        ++call;
        auto r = Call(row.method, target, callers_[c], body,
                      "198.51." + std::to_string(call / 250) + "." + std::to_string(call % 250 + 1));
        ++cells_;
        if (r.status != row.status[c]) {
          failures.push_back(std::string(kCallerNames[c]) + " " + row.method + " " + row.target + ": expected " +
                             std::to_string(row.status[c]) + ", got " + std::to_string(r.status) + " " +
                             r.body.substr(0, 200));
        }
        if (r.status == 401) {
          EXPECT_TRUE(r.headers.Get("WWW-Authenticate").value_or("").starts_with("Bearer"))
              << "401 without WWW-Authenticate: " << kCallerNames[c] << " " << row.method << " " << target;
        }
      }
    }
    return failures;
  }

  crypto::SecretKey master_key_{};
  std::string signing_key_;
  std::int64_t site_a_ = 0, site_b_ = 0, admin_ = 0, editor_a_ = 0, editor_b_ = 0, inactive_ = 0;
  std::map<int, Headers> callers_;
  std::map<int, std::string> refresh_;
  int counter_ = 0;
  int login_ip_ = 0;
  int cells_ = 0;
};

// Every bad credential answers 401, whatever the route asks.
constexpr int B = 401;

std::vector<Row> Table(std::int64_t editor_a, std::int64_t admin, std::int64_t site_a) {
  const std::string ea = "/api/v1/users/" + std::to_string(editor_a);
  const std::string ad = "/api/v1/users/" + std::to_string(admin);
  const std::string a = "/api/v1/sites/alpha", a_id = "/api/v1/sites/" + std::to_string(site_a);
  const std::string b = "/api/v1/sites/beta";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      // Sign-in, refresh, sign-out: the credential is in the body; an Authorization header neither helps nor hurts.
      {"POST", "/api/v1/auth/login", R"({"email":"ed-b@example.com","password":"correct horse battery staple"})",
                                                                                 {200, 200, 200, 200, -1,  200, 200, 200, 200,  200, 200}},
      // The inactive user with its own (right) password.
      {"POST", "/api/v1/auth/login", R"({"email":"gone@example.com","password":"correct horse battery staple"})",
                                                                                 {-1,  -1,  -1,  -1,  401, -1,  -1,  -1,  -1,   -1,  -1}},
      // Each caller presents what it holds as a refresh token (its own session's, else its token or key).
      {"POST", "/api/v1/auth/refresh", R"({"refresh_token":"{refresh}"})",       {401, 200, 200, 200, 401, 401, 401, 401, 401,  401, 401}},
      // Logout is idempotent and reveals nothing: 204 for any token.
      {"POST", "/api/v1/auth/logout", R"({"refresh_token":"an-unknown-token"})", {204, 204, 204, 204, 204, 204, 204, 204, 204,  204, 204}},
      {"GET", "/api/v1/auth/me", "",                                             {401, 200, 200, 200, B,   B,   B,   B,   B,    200, 200}},
      {"GET", "/api/v1/auth/api-keys", "",                                       {401, 200, 200, 200, B,   B,   B,   B,   B,    200, 200}},
      // Managing credentials needs a session, not an API key (403).
      {"POST", "/api/v1/auth/api-keys", R"({"name":"k{n}"})",                    {401, 201, 201, 201, B,   B,   B,   B,   B,    403, 403}},
      // A fresh key of editor A: only editor A may revoke it; to anyone else it does not exist.
      {"DELETE", "/api/v1/auth/api-keys/{own_key}", "",                          {401, 204, 404, 404, B,   B,   B,   B,   B,    403, 403}},
      {"POST", "/api/v1/auth/totp/setup", "",                                    {401, 200, 200, 200, B,   B,   B,   B,   B,    403, 403}},
      // A pending secret exists now (row above); a wrong code is 422, which proves the caller got through.
      {"POST", "/api/v1/auth/totp/confirm", R"({"code":"000000"})",              {401, 422, 422, 422, B,   B,   B,   B,   B,    403, 403}},
      {"POST", "/api/v1/auth/totp/disable", R"({"password":"correct horse battery staple"})",
                                                                                 {401, 204, 204, 204, B,   B,   B,   B,   B,    403, 403}},

      // Users: admin only, except reading and updating one's own profile.
      {"GET", "/api/v1/users", "",                                               {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"POST", "/api/v1/users", R"({"email":"new{n}@example.com","name":"N","password":"a fine long passphrase"})",
                                                                                 {401, 403, 403, 201, B,   B,   B,   B,   B,    403, 201}},
      {"GET", ea, "",                                                            {401, 200, 403, 200, B,   B,   B,   B,   B,    200, 200}},
      {"GET", ad, "",                                                            {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"GET", "/api/v1/users/99999", "",                                         {401, 403, 403, 404, B,   B,   B,   B,   B,    403, 404}},
      {"PATCH", ea, R"({"name":"Renamed {n}"})",                                 {401, 200, 403, 200, B,   B,   B,   B,   B,    200, 200}},
      // Not one's own role or sites (the admin's 200 would change editor A for the rows below: not run).
      {"PATCH", ea, R"({"role":"admin"})",                                       {401, 403, 403, -1,  B,   B,   B,   B,   B,    403, -1}},
      {"PATCH", ea, R"({"site_ids":[1,2]})",                                     {401, 403, 403, -1,  B,   B,   B,   B,   B,    403, -1}},
      {"PATCH", ad, R"({"name":"Root {n}"})",                                    {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"PATCH", "/api/v1/users/{victim_user}", R"({"role":"admin"})",            {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"DELETE", "/api/v1/users/{victim_user}", "",                              {401, 403, 403, 204, B,   B,   B,   B,   B,    403, 204}},
      {"DELETE", ea, "",                                                         {401, 403, 403, -1,  B,   B,   B,   B,   B,    403, -1}},
      {"DELETE", "/api/v1/users/99999", "",                                      {401, 403, 403, 404, B,   B,   B,   B,   B,    403, 404}},

      // Sites: every signed-in caller lists (its own); admins create and delete; a site out of reach is 404.
      {"GET", "/api/v1/sites", "",                                               {401, 200, 200, 200, B,   B,   B,   B,   B,    200, 200}},
      {"POST", "/api/v1/sites", R"({"slug":"new-{n}","name":"New"})",            {401, 403, 403, 201, B,   B,   B,   B,   B,    403, 201}},
      {"GET", a, "",                                                             {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", a_id, "",                                                          {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b, "",                                                             {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", "/api/v1/sites/nope", "",                                          {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", "/api/v1/sites/99999", "",                                         {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a, R"({"description":"d{n}"})",                                  {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PATCH", b, R"({"description":"d{n}"})",                                  {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      // Editors never delete sites (403 on their own, 404 on another's); the admin's deletes run on fresh sites.
      {"DELETE", a, "",                                                          {401, 403, 404, -1,  B,   B,   B,   B,   B,    403, 404}},
      {"DELETE", b, "",                                                          {401, 404, 403, -1,  B,   B,   B,   B,   B,    404, -1}},
      {"DELETE", "/api/v1/sites/{victim_site}", "",                              {401, 404, 404, 204, B,   B,   B,   B,   B,    404, 404}},
      {"DELETE", "/api/v1/sites/nope", "",                                       {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},

      // Settings: the site's editors and the admin.
      {"GET", a + "/settings", "",                                               {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/settings", "",                                               {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PUT", a + "/settings/smtp.host", R"({"value":"mail{n}.example.com"})",   {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PUT", b + "/settings/smtp.host", R"({"value":"mail{n}.example.com"})",   {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PUT", a + "/settings/smtp.password", R"({"value":"s3cret","secret":true})",
                                                                                 {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"DELETE", a + "/settings/seed.{c}", "",                                   {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", b + "/settings/seed.{c}", "",                                   {401, 404, 204, 204, B,   B,   B,   B,   B,    404, 204}},

      // Audit: admin only.
      {"GET", "/api/v1/audit", "",                                               {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"GET", "/api/v1/audit?action=site.*&limit=5", "",                         {401, 403, 403, 200, B,   B,   B,   B,   B,    403, 200}},
      {"GET", "/api/v1/audit?limit=0", "",                                       {401, 403, 403, 400, B,   B,   B,   B,   B,    403, 400}},
  };
  // clang-format on
}

// "/api/v1/users/123" -> "/api/v1/users/{id}"-like shape, for matching a row against the documented paths.
std::string Shape(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  std::string out;
  std::size_t start = 0;
  int depth = 0;
  while (start <= path.size()) {
    auto end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string seg = path.substr(start, end - start);
    ++depth;
    if (!out.empty() || start > 0) out += "/";
    // Segments 5 and 7 of /api/v1/{users|sites|auth/api-keys}/{x}/settings/{key} are parameters.
    bool param = false;
    if (depth == 5 && (path.starts_with("/api/v1/users/") || path.starts_with("/api/v1/sites/"))) param = true;
    if (depth == 6 && path.starts_with("/api/v1/auth/api-keys/")) param = true;
    if (depth == 7 && path.starts_with("/api/v1/sites/")) param = true;
    out += param ? "{}" : seg;
    start = end + 1;
  }
  return out;
}

std::string ShapeDocumented(const std::string& path) {
  std::string out;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      out += "{}";
      i = path.find('}', i);
    } else {
      out += path[i];
    }
  }
  return out;
}

TEST_P(PermissionsApi, EveryIdentityRouteForEveryCaller) {
  auto rows = Table(editor_a_, admin_, site_a_);
  auto failures = RunTable(rows);
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 400);
  // The admin's destructive rows, run last on the real objects.
  EXPECT_EQ(Call("DELETE", "/api/v1/users/" + std::to_string(editor_a_), callers_[kAdmin]).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", callers_[kEditorA]).status, 401) << "a deleted user's token still works";
  EXPECT_EQ(Call("GET", "/api/v1/auth/me", callers_[kKeyA]).status, 401) << "a deleted user's API key still works";
  EXPECT_EQ(Call("DELETE", "/api/v1/sites/beta", callers_[kAdminKeyB]).status, 204);
  EXPECT_EQ(Call("DELETE", "/api/v1/sites/alpha", callers_[kAdmin]).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/sites/alpha", callers_[kAdmin]).status, 404);
}

// A documented identity route without a row in the table fails here.
TEST_P(PermissionsApi, EveryDocumentedIdentityRouteHasRows) {
  auto r = Call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = nlohmann::json::parse(r.body);
  std::set<std::string> covered;
  std::map<std::string, std::set<int>> callers_per_route;
  for (const auto& row : Table(editor_a_, admin_, site_a_)) {
    auto key = row.method + " " + Shape(row.target);
    covered.insert(key);
    for (int c = 0; c < kCallers; ++c) {
      if (row.status[c] >= 0) callers_per_route[key].insert(c);
    }
  }
  int documented = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    if (!path.starts_with("/api/v1/users") && !path.starts_with("/api/v1/sites") &&
        !path.starts_with("/api/v1/audit") && !path.starts_with("/api/v1/auth/")) {
      continue;
    }
    for (const auto& [method, op] : item.items()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::string upper;
      for (char ch : method) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      auto key = upper + " " + ShapeDocumented(path);
      ++documented;
      EXPECT_TRUE(covered.count(key)) << "documented route without a permission row: " << upper << " " << path;
      EXPECT_EQ(callers_per_route[key].size(), static_cast<std::size_t>(kCallers))
          << "not every kind of caller has a row for " << upper << " " << path;
    }
  }
  EXPECT_GE(documented, 24);
  // And every row is a documented route.
  std::set<std::string> documented_keys;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      std::string upper;
      for (char ch : method) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      documented_keys.insert(upper + " " + ShapeDocumented(path));
    }
  }
  for (const auto& key : covered) EXPECT_TRUE(documented_keys.count(key)) << "row for an undocumented route: " << key;
}

POSTE_INSTANTIATE_DB_TEST(PermissionsApi);

}  // namespace
}  // namespace poste::testing
