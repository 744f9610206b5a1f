#pragma once
// The permission table harness (issue 3, extended by every later issue): the whole App on a fresh SQLite
// and PostgreSQL database, with one caller of every kind (anonymous, editor of site A, editor of site B,
// admin, inactive user, expired token, tampered token, alg=none token, revoked refresh token, API keys used
// outside their scope). A module's table is a list of rows, one status per caller, run by RunTable; and
// ExpectEveryDocumentedRouteHasRows checks that every route of docs/openapi.yaml under the module's prefixes
// has a row for every caller, and every row is a documented route.
//
// Sites: "alpha" (site_a_, editor A's) and "beta" (site_b_, editor B's). Users: admin_, editor_a_, editor_b_,
// inactive_. Placeholders in a row's target and body, replaced per call so that each cell stands alone:
//   {n}           a counter unique per call (emails, slugs)
//   {c}           the caller's name (e.g. an object seeded for each caller)
//   {victim_user} a fresh editor of site A created just before the call
//   {victim_site} a fresh site created just before the call
//   {own_key}     a fresh API key of editor A created just before the call
//   {refresh}     the caller's refresh token (in bodies)
// and those a module adds by overriding ExpandMore.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
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

using Headers = std::vector<std::pair<std::string, std::string>>;
inline constexpr const char* kTablePassword = "correct horse battery staple";

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
const char* const kCallerNames[kCallers] = {"anonymous",       "editor_a",  "editor_b",       "admin",
                                            "inactive",        "expired",   "tampered",       "alg_none",
                                            "revoked_refresh", "api_key_a", "admin_api_key_b"};

// One route with a status for each caller (-1: not run for that caller, with the reason in a comment).
struct Row {
  std::string method, target, body;
  std::array<int, kCallers> status;
};

class PermissionTable : public ApiTest {
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
    callers_[kTampered] = Bearer(token.substr(0, dot1) + "." + crypto::Base64UrlEncode(payload) + token.substr(dot2));
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
    u.password_hash = crypto::HashPassword(kTablePassword);
    u.role = role;
    u.site_ids = std::move(sites);
    return db().WriteValue([&](soci::session& s) { return users::store::Insert(s, u, 1); });
  }

  // Like ApiTest::Call, with a JSON body's Content-Type and a chosen client address (the login and refresh
  // limits are per IP: the table spreads its calls over many addresses).
  web::Response Call(const std::string& method, const std::string& target, const Headers& headers = {},
                     const std::string& body = {}, const std::string& ip = "192.0.2.1") {
    return CallFrom(ip, method, target, headers, body);
  }

  nlohmann::json Login(const std::string& email) {
    auto r =
        Call("POST", "/api/v1/auth/login", {}, nlohmann::json{{"email", email}, {"password", kTablePassword}}.dump(),
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
    return ExpandMore(std::move(s), caller);
  }

  // A module's own placeholders (objects created fresh for a cell, ids of seeded objects).
  virtual std::string ExpandMore(std::string s, int /*caller*/) { return s; }

  // Every documented route whose path starts with one of `prefixes` (or equals it, for a prefix ending in
  // '$') has a row for every kind of caller, and
  // every row of `rows` is a documented route. A row matches the most specific documented path (the fewest
  // {parameters}) whose segments it fits.
  void ExpectEveryDocumentedRouteHasRows(const std::vector<Row>& rows, const std::vector<std::string>& prefixes) {
    auto r = Call("GET", "/api/v1/openapi.json");
    ASSERT_EQ(r.status, 200);
    const auto doc = nlohmann::json::parse(r.body);
    std::vector<std::pair<std::string, std::string>> documented;  // method, path template
    for (const auto& [path, item] : doc["paths"].items()) {
      for (const auto& [method, op] : item.items()) {
        if (method == "parameters" || method == "summary" || method == "description") continue;
        std::string upper;
        for (char ch : method) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        documented.emplace_back(upper, path);
      }
    }
    std::map<std::pair<std::string, std::string>, std::set<int>> callers;
    for (const auto& row : rows) {
      const std::string path = row.target.substr(0, row.target.find('?'));
      const std::pair<std::string, std::string>* best = nullptr;
      int best_params = 1 << 30;
      for (const auto& d : documented) {
        if (d.first != row.method || !PathFits(d.second, path)) continue;
        int params = static_cast<int>(std::count(d.second.begin(), d.second.end(), '{'));
        if (params < best_params) best = &d, best_params = params;
      }
      if (!best) {
        ADD_FAILURE() << "row for an undocumented route: " << row.method << " " << row.target;
        continue;
      }
      for (int c = 0; c < kCallers; ++c) {
        if (row.status[c] >= 0) callers[*best].insert(c);
      }
    }
    int checked = 0;
    for (const auto& d : documented) {
      bool in_scope = false;
      for (const auto& prefix : prefixes) {
        in_scope = in_scope || (prefix.ends_with('$') ? d.second == prefix.substr(0, prefix.size() - 1)
                                                      : d.second.starts_with(prefix));
      }
      if (!in_scope) continue;
      ++checked;
      auto it = callers.find(d);
      EXPECT_TRUE(it != callers.end()) << "documented route without a permission row: " << d.first << " " << d.second;
      if (it != callers.end()) {
        EXPECT_EQ(it->second.size(), static_cast<std::size_t>(kCallers))
            << "not every kind of caller has a row for " << d.first << " " << d.second;
      }
    }
    EXPECT_GT(checked, 0) << "no documented route under the prefixes";
  }

  // "/api/v1/sites/{site}/settings" fits "/api/v1/sites/alpha/settings" ({...} stands for one segment).
  static bool PathFits(const std::string& pattern, const std::string& path) {
    std::size_t i = 0, j = 0;
    while (i < pattern.size() && j < path.size()) {
      if (pattern[i] == '{') {
        i = pattern.find('}', i) + 1;
        auto slash = path.find('/', j);
        j = slash == std::string::npos ? path.size() : slash;
        continue;
      }
      if (pattern[i] != path[j]) return false;
      ++i, ++j;
    }
    return i == pattern.size() && j == path.size();
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
inline constexpr int B = 401;

}  // namespace poste::testing
