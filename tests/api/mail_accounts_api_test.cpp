// Mail accounts through the whole app (issue 5), on SQLite and PostgreSQL: creation by an admin with the
// secret never shown again, editors reading without secrets and refused changes, validation answers with
// field errors, the default account, the account test against the real SMTP capture server (and a closed
// port), the SMTP target policy, and audit entries without secrets.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "lib/net/testing/loopback.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int ClosedPort() { return net::testing::ClosedLoopbackPort(); }

class MailAccountsApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override { config.mail.smtp_allow_targets = {"127.0.0.1"}; }

  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    PermissionTable::SetUp();
  }

  static nlohmann::json Smtp(int port, const std::string& name = "Capture") {
    return {{"name", name},
            {"type", "smtp"},
            {"from", {{"email", "news@alpha.example"}, {"name", "Alpha News"}}},
            {"settings",
             {{"host", "127.0.0.1"},
              {"port", port},
              {"tls", "none"},
              {"auth", "login"},
              {"username", "alpha"},
              {"password", "s3cret-passw0rd"}}},
            {"limits", {{"per_second", 5}, {"per_day", 1000}}}};
  }
  static int CapturePort() { return std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str()); }
  static nlohmann::json Json(const web::Response& r) { return nlohmann::json::parse(r.body); }
  static bool HasField(const web::Response& r, const std::string& field, const std::string& code) {
    auto j = Json(r);
    for (const auto& e : j["errors"]) {
      if (e["field"] == field && e["code"] == code) return true;
    }
    return false;
  }
  const std::string base_ = "/api/v1/sites/alpha/mail/accounts";
};

TEST_P(MailAccountsApi, AnAdminAddsAnAccountWhoseSecretIsNeverShown) {
  auto created = Call("POST", base_, callers_[kAdmin], Smtp(CapturePort()).dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto a = Json(created);
  EXPECT_EQ(created.body.find("s3cret"), std::string::npos);
  EXPECT_EQ(a["settings"]["password_set"], true);
  EXPECT_EQ(a["settings"]["host"], "127.0.0.1");
  EXPECT_EQ(a["is_default"], true);
  EXPECT_EQ(a["limits"]["per_second"], 5);
  EXPECT_EQ(a["limits"]["per_hour"], 0);
  const std::string one = base_ + "/" + std::to_string(a["id"].get<std::int64_t>());
  EXPECT_EQ(*created.headers.Get("Location"),
            "/api/v1/sites/" + std::to_string(site_a_) + "/mail/accounts/" + std::to_string(a["id"].get<int>()));

  // Editors of the site read, without secrets; they cannot change anything.
  auto list = Call("GET", base_, callers_[kEditorA]);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(Json(list)["items"].size(), 1u);
  EXPECT_EQ(list.body.find("s3cret"), std::string::npos);
  EXPECT_EQ(Call("GET", one, callers_[kEditorA]).status, 200);
  EXPECT_EQ(Call("PATCH", one, callers_[kEditorA], R"({"name":"Mine"})").status, 403);
  EXPECT_EQ(Call("POST", base_, callers_[kEditorA], Smtp(CapturePort()).dump()).status, 403);
  EXPECT_EQ(
      Call("GET", "/api/v1/sites/beta/mail/accounts/" + std::to_string(a["id"].get<int>()), callers_[kAdmin]).status,
      404);

  // The test answers the server's own words.
  auto test = Call("POST", one + "/test", callers_[kAdmin]);
  ASSERT_EQ(test.status, 200) << test.body;
  EXPECT_EQ(Json(test)["ok"], true) << test.body;
  EXPECT_TRUE(Json(test)["answer"].get<std::string>().starts_with("250")) << test.body;

  // Pointed at a closed port: a temporary failure, with what happened.
  auto moved = Call("PATCH", one, callers_[kAdmin], nlohmann::json{{"settings", {{"port", ClosedPort()}}}}.dump());
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_EQ(Json(moved)["settings"]["password_set"], true) << "the password is kept";
  test = Call("POST", one + "/test", callers_[kAdmin]);
  EXPECT_EQ(Json(test)["ok"], false);
  EXPECT_EQ(Json(test)["outcome"], "temporary_failure");
  EXPECT_TRUE(Json(test)["answer"].get<std::string>().starts_with("could not connect to 127.0.0.1:")) << test.body;

  // The audit log records each change, never the password.
  auto audit = Call("GET", "/api/v1/audit?action=mail_account.*", callers_[kAdmin]);
  ASSERT_EQ(audit.status, 200);
  const auto entries = Json(audit)["items"];
  EXPECT_EQ(entries.size(), 4u) << audit.body;  // create, test, update, test
  EXPECT_EQ(audit.body.find("s3cret"), std::string::npos);

  EXPECT_EQ(Call("DELETE", one, callers_[kEditorA]).status, 403);
  EXPECT_EQ(Call("DELETE", one, callers_[kAdmin]).status, 204);
  EXPECT_EQ(Call("GET", one, callers_[kAdmin]).status, 404);
}

TEST_P(MailAccountsApi, BadInputIsAnsweredWithFieldErrors) {
  auto post = [&](const nlohmann::json& body) { return Call("POST", base_, callers_[kAdmin], body.dump()); };
  auto body = Smtp(CapturePort());
  body["from"]["name"] = "Alpha\r\nBcc: everyone@example.com";
  auto r = post(body);
  EXPECT_EQ(r.status, 422);
  EXPECT_TRUE(HasField(r, "from.name", "header_injection")) << r.body;
  body = Smtp(CapturePort());
  body["from"]["email"] = "news@alpha.example>\r\nRCPT TO:<x@y.z";
  EXPECT_TRUE(HasField(post(body), "from.email", "header_injection"));
  body = Smtp(CapturePort());
  body["settings"]["tls"] = "sslv3";
  body["settings"]["port"] = -1;
  body["type"] = "smtp";
  r = post(body);
  EXPECT_TRUE(HasField(r, "settings.tls", "invalid_value")) << r.body;
  EXPECT_TRUE(HasField(r, "settings.port", "invalid_value")) << r.body;
  body = Smtp(CapturePort());
  body["limits"]["per_minute"] = 3;
  body["limits"]["per_day"] = -5;
  r = post(body);
  EXPECT_TRUE(HasField(r, "limits.per_minute", "unknown_field")) << r.body;
  EXPECT_TRUE(HasField(r, "limits.per_day", "invalid_value")) << r.body;
  body = Smtp(CapturePort());
  body["type"] = "fax";
  EXPECT_TRUE(HasField(post(body), "type", "invalid_value"));
  body = Smtp(CapturePort());
  body["settings"] = "host=evil";
  EXPECT_TRUE(HasField(post(body), "settings", "invalid_type"));
  body = Smtp(CapturePort());
  body["owner"] = "me";
  EXPECT_TRUE(HasField(post(body), "owner", "unknown_field"));
  EXPECT_EQ(Call("POST", base_, callers_[kAdmin], "{not json").status, 400);
  EXPECT_EQ(Call("POST", base_, callers_[kAdmin], "[1,2]").status, 400);
  EXPECT_EQ(Call("POST", base_, callers_[kAdmin], std::string("{\"name\":\"\xff\"}")).status, 400);
  EXPECT_EQ(Json(Call("GET", base_, callers_[kAdmin]))["items"].size(), 0u);
}

TEST_P(MailAccountsApi, OneDefaultPerSite) {
  auto a = Json(Call("POST", base_, callers_[kAdmin], Smtp(CapturePort(), "A").dump()));
  auto body = Smtp(CapturePort(), "B");
  body["is_default"] = true;
  auto b = Json(Call("POST", base_, callers_[kAdmin], body.dump()));
  EXPECT_EQ(b["is_default"], true);
  EXPECT_EQ(Json(Call("GET", base_ + "/" + std::to_string(a["id"].get<int>()), callers_[kAdmin]))["is_default"], false);
  auto patched =
      Call("PATCH", base_ + "/" + std::to_string(a["id"].get<int>()), callers_[kAdmin], R"({"is_default":true})");
  EXPECT_EQ(Json(patched)["is_default"], true);
  auto list = Json(Call("GET", base_, callers_[kEditorA]))["items"];
  int defaults = 0;
  for (const auto& item : list) defaults += item["is_default"].get<bool>() ? 1 : 0;
  EXPECT_EQ(defaults, 1);
  EXPECT_EQ(Call("PATCH", base_ + "/" + std::to_string(a["id"].get<int>()), callers_[kAdmin], R"({"is_default":false})")
                .status,
            409);
}

// Without mail.smtp_allow_targets, loopback is out of reach (private networks are not).
class MailAccountsPolicyApi : public MailAccountsApi {
 protected:
  void Configure(app::Config&) override {}
};

TEST_P(MailAccountsPolicyApi, LoopbackNeedsTheAllowList) {
  auto created = Call("POST", base_, callers_[kAdmin], Smtp(CapturePort()).dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto test = Call("POST", base_ + "/" + std::to_string(Json(created)["id"].get<int>()) + "/test", callers_[kAdmin]);
  EXPECT_EQ(Json(test)["outcome"], "permanent_failure") << test.body;
  EXPECT_NE(Json(test)["answer"].get<std::string>().find("mail.smtp_allow_targets"), std::string::npos) << test.body;
}

POSTE_INSTANTIATE_DB_TEST(MailAccountsApi);
POSTE_INSTANTIATE_DB_TEST(MailAccountsPolicyApi);

}  // namespace
}  // namespace poste::testing
