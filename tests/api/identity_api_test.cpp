// Identity API (issue 3): users, sites and settings, audit. The routes run in-process behind the real
// pipeline on a fresh SQLite and PostgreSQL database, with stand-in permission middleware that behaves as the
// auth module's guard is specified to: the caller is the user named by X-Test-User (401 when absent, unknown
// or inactive), admin-only routes answer 403 to editors, self-or-admin routes 403 to other users, and a site
// the caller cannot access answers 404.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <charconv>
#include <nlohmann/json.hpp>
#include <set>

#include "db/database.hpp"
#include "http/pipeline.hpp"
#include "lib/async/blocking.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/embedded.hpp"
#include "lib/error.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/sites/sites_routes.hpp"
#include "modules/sites/sites_service.hpp"
#include "modules/users/users_routes.hpp"
#include "modules/users/users_service.hpp"
#include "modules/users/users_store.hpp"
#include "scenario.hpp"
#include "support/db_fixture.hpp"
#include "support/run_task.hpp"

namespace poste::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
constexpr const char* kPassword = "correct horse battery staple";

crypto::PasswordParams Cheap() {
  crypto::PasswordParams p;
  p.ops_limit = 1;
  p.mem_limit = crypto::kMinMemLimit;
  return p;
}

// Stand-ins for the auth module's AuthGuard.
struct FakeGuard {
  db::Database& db;
  sites::SitesService& sites;

  web::Middleware User() const {
    return [&db = db](web::RequestContext& ctx, const web::Next& next) -> web::Task<web::Response> {
      auto header = ctx.request.headers.Get("X-Test-User");
      if (!header) throw AppError(ErrorCode::kUnauthorized, "Authentication is required.");
      std::int64_t id = 0;
      std::from_chars(header->data(), header->data() + header->size(), id);
      auto user = co_await blocking(
          [&db, id] { return db.ReadValue([&](soci::session& s) { return users::store::GetById(s, id); }); });
      if (!user || !user->active) throw AppError(ErrorCode::kUnauthorized, "Authentication is required.");
      web::Principal p;
      p.user_id = user->id;
      p.admin = user->role == users::kRoleAdmin;
      p.site_ids = user->site_ids;
      ctx.principal = p;
      co_return co_await next(ctx);
    };
  }
  web::Middleware Admin() const {
    return [](web::RequestContext& ctx, const web::Next& next) -> web::Task<web::Response> {
      if (!ctx.principal || !ctx.principal->admin) throw AppError(ErrorCode::kForbidden, "Administrators only.");
      co_return co_await next(ctx);
    };
  }
  web::Middleware SelfOrAdmin() const {
    return [](web::RequestContext& ctx, const web::Next& next) -> web::Task<web::Response> {
      if (!ctx.principal) throw AppError(ErrorCode::kUnauthorized, "Authentication is required.");
      if (!ctx.principal->admin && ctx.Param("id") != std::to_string(ctx.principal->user_id)) {
        throw AppError(ErrorCode::kForbidden, "Not your account.");
      }
      co_return co_await next(ctx);
    };
  }
  web::Middleware SiteAccess() const {
    return [&sites = sites](web::RequestContext& ctx, const web::Next& next) -> web::Task<web::Response> {
      std::string name = ctx.Param("site");
      auto id = co_await blocking([&sites, &name] { return sites.ResolveSite(name); });
      if (!id || !ctx.principal || !ctx.principal->CanAccessSite(*id)) throw AppError::NotFound("No such site.");
      ctx.site_id = *id;
      co_return co_await next(ctx);
    };
  }
};

class IdentityApi : public DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    users_ = std::make_unique<users::UsersService>(db(), Cheap());
    sites_ = std::make_unique<sites::SitesService>(db(), *box_);
    audit_ = std::make_unique<audit::AuditService>(db());
    FakeGuard guard{db(), *sites_};
    users::RegisterRoutes(router_, *users_, {{guard.User()}, {guard.Admin()}, {guard.SelfOrAdmin()}});
    sites::RegisterRoutes(router_, *sites_, {{guard.User()}, {guard.Admin()}, {guard.SiteAccess()}});
    audit::RegisterRoutes(router_, *audit_, {{guard.User()}, {guard.Admin()}});
    http::PipelineOptions options;
    options.access_log = false;
    pipeline_ = std::make_unique<http::Pipeline>(router_, options, nullptr);

    admin_ = users_->EnsureFirstAdmin("root@example.com", "a long enough admin passphrase").user_id;
    web::Principal root;
    root.user_id = admin_;
    root.admin = true;
    sites::NewSite a;
    a.slug = "alpha", a.name = "Alpha", a.domains = {"alpha.example.com"};
    site_a_ = sites_->Create(root, {}, a).id;
    sites::NewSite b;
    b.slug = "beta", b.name = "Beta", b.domains = {"beta.example.com"};
    site_b_ = sites_->Create(root, {}, b).id;
    editor_a_ = AddUser(root, "ed-a@example.com", {site_a_});
    editor_b_ = AddUser(root, "ed-b@example.com", {site_b_});
    inactive_ = AddUser(root, "gone@example.com", {site_a_}, false);
  }

  std::int64_t AddUser(const web::Principal& root, std::string email, std::vector<std::int64_t> sites,
                       bool active = true) {
    users::CreateUser u;
    u.email = std::move(email), u.name = "User", u.password = kPassword, u.site_ids = std::move(sites);
    u.active = active;
    return users_->Create(root, {}, u).id;
  }

  Headers As(std::int64_t user) const {
    return {{"X-Test-User", std::to_string(user)}, {"Content-Type", "application/json"}};
  }

  web::Response Call(const std::string& method, const std::string& target, const Headers& headers,
                     const std::string& body = {}) {
    web::Request request;
    request.method = method;
    request.target = target;
    web::SplitTarget(target, request.path, request.query);
    for (const auto& [k, v] : headers) request.headers.Add(k, v);
    request.body = body;
    request.remote_ip = "198.51.100.7";
    return RunTask(pipeline_->Handle(request));
  }

  // One route for every kind of caller: the expected status of each, -1 to skip.
  struct Row {
    std::string method, target, body;
    int anonymous, editor_a, editor_b, admin, inactive;
  };
  void RunTable(const std::vector<Row>& rows) {
    for (const auto& row : rows) {
      const std::pair<const char*, int> callers[] = {{"anonymous", row.anonymous},
                                                     {"editor of A", row.editor_a},
                                                     {"editor of B", row.editor_b},
                                                     {"admin", row.admin},
                                                     {"inactive", row.inactive}};
      const std::int64_t ids[] = {0, editor_a_, editor_b_, admin_, inactive_};
      for (std::size_t i = 0; i < 5; ++i) {
        if (callers[i].second < 0) continue;
        Headers h = i == 0 ? Headers{{"Content-Type", "application/json"}} : As(ids[i]);
        auto r = Call(row.method, row.target, h, row.body);
        EXPECT_EQ(r.status, callers[i].second)
            << row.method << " " << row.target << " as " << callers[i].first << ": " << r.body;
      }
    }
  }

  // The field of the first error of a problem response.
  static std::string Field(const web::Response& r) {
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_discarded() || !j.contains("errors") || j["errors"].empty()) return "";
    return j["errors"][0].value("field", "");
  }

  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<users::UsersService> users_;
  std::unique_ptr<sites::SitesService> sites_;
  std::unique_ptr<audit::AuditService> audit_;
  web::Router router_;
  std::unique_ptr<http::Pipeline> pipeline_;
  std::int64_t admin_ = 0, editor_a_ = 0, editor_b_ = 0, inactive_ = 0, site_a_ = 0, site_b_ = 0;
};

TEST_P(IdentityApi, PermissionTable) {
  const std::string ea = "/api/v1/users/" + std::to_string(editor_a_);
  const std::string a = "/api/v1/sites/alpha", a_id = "/api/v1/sites/" + std::to_string(site_a_);
  const std::string b = "/api/v1/sites/beta";
  //                                                      anon  edA  edB  admin inactive
  RunTable({
      {"GET", "/api/v1/users", "", 401, 403, 403, 200, 401},
      {"POST", "/api/v1/users", R"({"email":"n1@example.com","name":"N","password":"a fine passphrase"})", 401, 403,
       403, 201, 401},
      {"GET", ea, "", 401, 200, 403, 200, 401},
      {"GET", "/api/v1/users/" + std::to_string(admin_), "", 401, 403, 403, 200, 401},
      {"GET", "/api/v1/users/99999", "", 401, 403, 403, 404, 401},
      {"PATCH", ea, R"({"name":"Renamed"})", 401, 200, 403, 200, 401},
      {"PATCH", ea, R"({"role":"admin"})", 401, 403, 403, -1, 401},
      {"PATCH", ea, R"({"site_ids":[1,2]})", 401, 403, 403, -1, 401},
      {"PATCH", ea, R"({"active":false})", 401, 403, 403, -1, 401},
      {"DELETE", ea, "", 401, 403, 403, -1, 401},
      {"DELETE", "/api/v1/users/99999", "", 401, 403, 403, 404, 401},
      {"GET", "/api/v1/sites", "", 401, 200, 200, 200, 401},
      {"POST", "/api/v1/sites", R"({"slug":"gamma","name":"Gamma"})", 401, 403, 403, 201, 401},
      {"GET", a, "", 401, 200, 404, 200, 401},
      {"GET", a_id, "", 401, 200, 404, 200, 401},
      {"GET", b, "", 401, 404, 200, 200, 401},
      {"GET", "/api/v1/sites/nope", "", 401, 404, 404, 404, 401},
      {"GET", "/api/v1/sites/99999", "", 401, 404, 404, 404, 401},
      {"PATCH", a, R"({"description":"d"})", 401, 200, 404, 200, 401},
      {"DELETE", a, "", 401, 403, 404, -1, 401},
      {"DELETE", "/api/v1/sites/nope", "", 401, 404, 404, 404, 401},
      {"GET", a + "/settings", "", 401, 200, 404, 200, 401},
      {"PUT", a + "/settings/smtp.host", R"({"value":"mail.example.com"})", 401, 200, 404, 200, 401},
      {"DELETE", a + "/settings/smtp.host", "", 401, 204, 404, 404, 401},
      {"DELETE", b + "/settings/none", "", 401, 404, 404, 404, 401},
      {"GET", "/api/v1/audit", "", 401, 403, 403, 200, 401},
  });
  // The admin-only destructive rows, last.
  EXPECT_EQ(Call("DELETE", ea, As(admin_)).status, 204);
  EXPECT_EQ(Call("GET", ea, As(admin_)).status, 404);
  EXPECT_EQ(Call("DELETE", a, As(admin_)).status, 204);
  EXPECT_EQ(Call("GET", a, As(admin_)).status, 404);
  // The last active admin stays.
  EXPECT_EQ(Call("DELETE", "/api/v1/users/" + std::to_string(admin_), As(admin_)).status, 409);
  EXPECT_EQ(Call("PATCH", "/api/v1/users/" + std::to_string(admin_), As(admin_), R"({"role":"editor"})").status, 409);
}

TEST_P(IdentityApi, EditorsSeeOnlyTheirSites) {
  auto r = Call("GET", "/api/v1/sites", As(editor_b_));
  ASSERT_EQ(r.status, 200);
  auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["slug"], "beta");
  j = nlohmann::json::parse(Call("GET", "/api/v1/sites?limit=1", As(admin_)).body);
  ASSERT_EQ(j["items"].size(), 1u);
  ASSERT_TRUE(j["next_cursor"].is_string());
  j = nlohmann::json::parse(
      Call("GET", "/api/v1/sites?limit=1&cursor=" + j["next_cursor"].get<std::string>(), As(admin_)).body);
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["slug"], "alpha");
  EXPECT_EQ(Call("GET", "/api/v1/sites?limit=0", As(admin_)).status, 400);
  EXPECT_EQ(Call("GET", "/api/v1/sites?cursor=x", As(admin_)).status, 400);
}

TEST_P(IdentityApi, UserBadInput) {
  const auto h = As(admin_);
  auto post = [&](const std::string& body) { return Call("POST", "/api/v1/users", h, body); };
  auto body = [](const std::string& email, const std::string& name, const std::string& password) {
    return nlohmann::json{{"email", email}, {"name", name}, {"password", password}}.dump();
  };
  struct Case {
    std::string name, body;
    int status;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"over-long name", body("a@example.com", std::string(201, 'n'), kPassword), 422, "name"},
      {"over-long email", body(std::string(250, 'e') + "@example.com", "N", kPassword), 422, "email"},
      {"invalid email", body("not-an-email", "N", kPassword), 422, "email"},
      {"email with CRLF", body("a\r\nBcc: x@example.com", "N", kPassword), 422, "email"},
      {"name with CRLF", body("a@example.com", "N\r\nX-Injected: 1", kPassword), 422, "name"},
      {"short password", body("a@example.com", "N", "short"), 422, "password"},
      {"common password", body("a@example.com", "N", "password123"), 422, "password"},
      {"common password, other case", body("a@example.com", "N", "Qwertyuiop"), 422, "password"},
      {"password containing the email", body("marguerite@example.com", "N", "marguerite2024!"), 422, "password"},
      {"duplicate email", body("ED-A@example.com", "N", kPassword), 409, "email"},
      {"unknown role", R"({"email":"r@example.com","name":"N","password":"a fine passphrase","role":"root"})", 422,
       "role"},
      {"unknown site", R"({"email":"r@example.com","name":"N","password":"a fine passphrase","site_ids":[999]})", 422,
       "site_ids"},
      {"wrong type", R"({"email":5,"name":"N","password":"a fine passphrase"})", 422, "email"},
      {"not JSON", "{", 400, "body"},
      {"not an object", "[]", 400, "body"},
  };
  for (const auto& c : cases) {
    auto r = post(c.body);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_EQ(Field(r), c.field) << c.name << ": " << r.body;
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json") << c.name;
  }
  // Nothing of the refused requests was stored.
  auto list = nlohmann::json::parse(Call("GET", "/api/v1/users", h).body);
  EXPECT_EQ(list["items"].size(), 4u);

  // PATCH: duplicate email, self password change without / with the wrong current password.
  const std::string ea = "/api/v1/users/" + std::to_string(editor_a_);
  auto r = Call("PATCH", ea, As(editor_a_), R"({"email":"ed-b@EXAMPLE.com"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Field(r), "email");
  r = Call("PATCH", ea, As(editor_a_), R"({"password":"a new fine passphrase"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Field(r), "current_password");
  r = Call("PATCH", ea, As(editor_a_), R"({"password":"a new fine passphrase","current_password":"nope"})");
  EXPECT_EQ(r.status, 422);
  r = Call("PATCH", ea, As(editor_a_),
           nlohmann::json{{"password", "a new fine passphrase"}, {"current_password", kPassword}}.dump());
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body.find("password"), std::string::npos);
  r = Call("PATCH", ea, As(editor_a_), R"({"password":"12345678901"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Field(r), "password");
  EXPECT_EQ(Call("GET", "/api/v1/users/abc", h).status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/users?role=root", h).status, 400);
}

TEST_P(IdentityApi, HostileTextIsStoredAsGivenAndReturnedEscaped) {
  const std::string hostile = "x'; DROP TABLE users; --\"<script>alert(1)</script>&amp;";
  const std::string multiline = "line1\r\nline2 " + hostile;
  auto r = Call("POST", "/api/v1/users", As(admin_),
                nlohmann::json{{"email", "h@example.com"}, {"name", hostile}, {"password", kPassword}}.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find(R"(--\"<script>)"), std::string::npos) << r.body;  // the quote escaped in JSON
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/json");
  auto id = nlohmann::json::parse(r.body)["id"].get<std::int64_t>();
  auto got = nlohmann::json::parse(Call("GET", "/api/v1/users/" + std::to_string(id), As(admin_)).body);
  EXPECT_EQ(got["name"], hostile);

  nlohmann::json site = {{"slug", "hostile"},
                         {"name", hostile},
                         {"description", multiline},
                         {"contact", {{"address", multiline}, {"phone", "+33 '\"<b>;--"}}},
                         {"domains", {"hostile.example.com"}}};
  r = Call("POST", "/api/v1/sites", As(admin_), site.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_NE(r.body.find(R"(line1\r\nline2)"), std::string::npos) << r.body;
  got = nlohmann::json::parse(Call("GET", "/api/v1/sites/hostile", As(admin_)).body);
  EXPECT_EQ(got["name"], hostile);
  EXPECT_EQ(got["description"], multiline);
  EXPECT_EQ(got["contact"]["address"], multiline);
  EXPECT_EQ(got["contact"]["phone"], "+33 '\"<b>;--");

  r = Call("PUT", "/api/v1/sites/hostile/settings/note", As(admin_), nlohmann::json{{"value", multiline}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  got = nlohmann::json::parse(Call("GET", "/api/v1/sites/hostile/settings", As(admin_)).body);
  EXPECT_EQ(got["items"][0]["value"], multiline);
  // The tables are all still there.
  EXPECT_EQ(Call("GET", "/api/v1/users", As(admin_)).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/audit", As(admin_)).status, 200);
}

TEST_P(IdentityApi, SiteBadInput) {
  const auto h = As(admin_);
  struct Case {
    std::string name;
    nlohmann::json body;
    int status;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"duplicate slug", {{"slug", "alpha"}, {"name", "X"}}, 409, "slug"},
      {"duplicate domain", {{"slug", "x1"}, {"name", "X"}, {"domains", {"ALPHA.example.com."}}}, 409, "domains"},
      {"invalid domain", {{"slug", "x2"}, {"name", "X"}, {"domains", {"not a domain"}}}, 422, "domains[0]"},
      {"ip as domain", {{"slug", "x3"}, {"name", "X"}, {"domains", {"10.0.0.1"}}}, 422, "domains[0]"},
      {"domain with scheme",
       {{"slug", "x4"}, {"name", "X"}, {"domains", {"https://x.example.com"}}},
       422,
       "domains[0]"},
      {"bad slug", {{"slug", "Not A Slug"}, {"name", "X"}}, 422, "slug"},
      {"digits-only slug", {{"slug", "123"}, {"name", "X"}}, 422, "slug"},
      {"over-long name", {{"slug", "x5"}, {"name", std::string(201, 'n')}}, 422, "name"},
      {"over-long description",
       {{"slug", "x6"}, {"name", "X"}, {"description", std::string(2001, 'd')}},
       422,
       "description"},
      {"name with CRLF", {{"slug", "x7"}, {"name", "a\r\nb"}}, 422, "name"},
      {"bad contact email", {{"slug", "x8"}, {"name", "X"}, {"contact", {{"email", "nope"}}}}, 422, "contact.email"},
      {"wrong type", {{"slug", "x9"}, {"name", "X"}, {"domains", "x.example.com"}}, 422, "domains"},
      {"missing name", {{"slug", "x10"}}, 422, "name"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", "/api/v1/sites", h, c.body.dump());
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_EQ(Field(r), c.field) << c.name << ": " << r.body;
  }
  auto r = Call("PATCH", "/api/v1/sites/beta", h, R"({"domains":["alpha.example.com"]})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Field(r), "domains");
  r = Call("PATCH", "/api/v1/sites/beta", h, R"({"slug":"alpha"})");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(Field(r), "slug");
  r = Call("PUT", "/api/v1/sites/beta/settings/Bad%20Key", h, R"({"value":"v"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Field(r), "key");
  r = Call("PUT", "/api/v1/sites/beta/settings/k", h, R"({"secret":true})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(Field(r), "value");
  r = Call("PUT", "/api/v1/sites/beta/settings/k", h, R"({"value":5})");
  EXPECT_EQ(r.status, 422);
}

TEST_P(IdentityApi, SecretSettingsAreNeverReturnedAndAuditIsRedacted) {
  const std::string secret = "s3cr3t-Value-Never-Shown";
  auto r = Call("PUT", "/api/v1/sites/alpha/settings/smtp.password", As(editor_a_),
                nlohmann::json{{"value", secret}, {"secret", true}}.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(nlohmann::json::parse(r.body), (nlohmann::json{{"key", "smtp.password"}, {"secret", true}, {"set", true}}));
  r = Call("GET", "/api/v1/sites/alpha/settings", As(editor_a_));
  EXPECT_EQ(r.body.find(secret), std::string::npos);
  EXPECT_EQ(r.body.find("v1:"), std::string::npos);  // nor its ciphertext
  EXPECT_NE(r.body.find(R"("set":true)"), std::string::npos);
  EXPECT_EQ(sites_->SettingValue(site_a_, "smtp.password"), secret);

  r = Call("GET", "/api/v1/audit?site=" + std::to_string(site_a_) + "&action=site.setting.*", As(admin_));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body.find(secret), std::string::npos);
  auto j = nlohmann::json::parse(r.body);
  ASSERT_EQ(j["items"].size(), 1u);
  const auto& e = j["items"][0];
  EXPECT_EQ(e["action"], "site.setting.create");
  EXPECT_EQ(e["actor_user_id"], editor_a_);
  EXPECT_EQ(e["ip"], "198.51.100.7");
  EXPECT_EQ(e["changes"]["value"]["to"], "[redacted]");
  EXPECT_FALSE(e["request_id"].get<std::string>().empty());
}

TEST_P(IdentityApi, AuditFiltersAndPages) {
  Call("PATCH", "/api/v1/users/" + std::to_string(editor_a_), As(editor_a_), R"({"name":"One"})");
  Call("PATCH", "/api/v1/sites/beta", As(editor_b_), R"({"name":"Beta 2"})");
  auto list = [&](const std::string& query) {
    auto r = Call("GET", "/api/v1/audit" + query, As(admin_));
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return nlohmann::json::parse(r.body);
  };
  EXPECT_EQ(list("?actor=" + std::to_string(editor_a_))["items"].size(), 1u);
  auto j = list("?actor=" + std::to_string(editor_b_));
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["changes"]["name"]["to"], "Beta 2");
  EXPECT_EQ(list("?object_type=user&object_id=" + std::to_string(editor_a_))["items"].size(), 2u);  // create, update
  EXPECT_EQ(list("?action=user.create")["items"].size(), 4u);  // the first admin and three users
  EXPECT_EQ(list("?from=0&to=1")["items"].size(), 0u);
  // Pages of 3 cover everything once, newest first.
  std::vector<std::int64_t> ids;
  std::string cursor;
  for (int i = 0; i < 20; ++i) {
    auto page = list("?limit=3" + (cursor.empty() ? std::string() : "&cursor=" + cursor));
    for (const auto& e : page["items"]) ids.push_back(e["id"].get<std::int64_t>());
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(ids.size(), list("?limit=200")["items"].size());
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), ids.size());
  for (const char* bad : {"?limit=0", "?limit=201", "?actor=x", "?from=-1", "?cursor=0"}) {
    EXPECT_EQ(Call("GET", std::string("/api/v1/audit") + bad, As(admin_)).status, 400) << bad;
  }
}

TEST_P(IdentityApi, UserListFiltersAndPages) {
  auto list = [&](const std::string& query) {
    auto r = Call("GET", "/api/v1/users" + query, As(admin_));
    EXPECT_EQ(r.status, 200) << query << ": " << r.body;
    return nlohmann::json::parse(r.body);
  };
  EXPECT_EQ(list("?role=admin")["items"].size(), 1u);
  EXPECT_EQ(list("?role=editor")["items"].size(), 3u);
  auto j = list("?active=false");
  ASSERT_EQ(j["items"].size(), 1u);
  EXPECT_EQ(j["items"][0]["id"], inactive_);
  EXPECT_EQ(list("?site=" + std::to_string(site_a_))["items"].size(), 2u);
  j = list("?limit=3");
  ASSERT_EQ(j["items"].size(), 3u);
  ASSERT_TRUE(j["next_cursor"].is_string());
  EXPECT_EQ(list("?limit=3&cursor=" + j["next_cursor"].get<std::string>())["items"].size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/users?active=maybe", As(admin_)).status, 400);
  // The password hash, TOTP secret and token version never appear.
  auto body = Call("GET", "/api/v1/users", As(admin_)).body;
  for (const char* hidden : {"password", "argon2", "totp_secret", "token_version"}) {
    EXPECT_EQ(body.find(hidden), std::string::npos) << hidden;
  }
}

// Every route registered here is documented in docs/openapi.yaml.
TEST_P(IdentityApi, RoutesAreDocumented) {
  std::string_view json = "{}";
  for (const auto& file : embedded::OpenApi()) {
    if (file.path == "openapi.json") json = file.bytes;
  }
  auto doc = nlohmann::json::parse(json);
  for (const auto& route : router_.Routes()) {
    std::string method = route->method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_TRUE(doc["paths"].contains(route->pattern) && doc["paths"][route->pattern].contains(method))
        << route->method << " " << route->pattern;
  }
}

POSTE_INSTANTIATE_DB_TEST(IdentityApi);

}  // namespace
}  // namespace poste::testing
