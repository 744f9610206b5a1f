// DKIM keys per site through the whole app (issue 5), on SQLite and PostgreSQL: generate, show the DNS
// record, enable / disable, delete; the private key never in an answer; hostile input refused with
// problem+json field errors. Then a message sent through POST .../mail/messages by the app's own job workers
// (the real wiring) reaches the SMTP capture server signed, and its signature verifies against the record
// the API showed, with libopendkim and with dkimpy; altered, it fails; disabled, the next message goes
// unsigned.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "lib/ids.hpp"
#include "lib/mail/dkim.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "modules/mail/mail_dkim_test_support.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class MailDkimApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override {
    config.mail.smtp_allow_targets = {"127.0.0.1"};
    config.jobs.poll_interval_ms = 50;
  }

  web::Response Admin(const std::string& method, const std::string& target, const std::string& body = {}) {
    return Call(method, target, callers_[kAdmin], body);
  }

  // The field:code pairs of a problem answer.
  static std::vector<std::string> Fields(const web::Response& r) {
    std::vector<std::string> out;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_object() || !j.contains("errors")) return out;
    for (const auto& e : j["errors"]) out.push_back(e.value("field", "") + ":" + e.value("code", ""));
    return out;
  }

  const std::string base_ = "/api/v1/sites/alpha/mail/dkim";
};

TEST_P(MailDkimApi, GenerateShowDisableDelete) {
  auto created = Admin("POST", base_, R"({"domain":"Alpha.Example.","selector":"Poste2026"})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body.find("PRIVATE"), std::string::npos);
  EXPECT_EQ(created.body.find("private_key"), std::string::npos);
  auto key = nlohmann::json::parse(created.body);
  const auto id = key["id"].get<std::int64_t>();
  EXPECT_EQ(key["domain"], "alpha.example");
  EXPECT_EQ(key["selector"], "poste2026");
  EXPECT_EQ(key["enabled"], true);
  EXPECT_EQ(key["algorithm"], "rsa-sha256");
  EXPECT_EQ(key["bits"], 2048);
  EXPECT_EQ(key["dns"]["name"], "poste2026._domainkey.alpha.example");
  EXPECT_EQ(key["dns"]["type"], "TXT");
  EXPECT_TRUE(key["dns"]["value"].get<std::string>().starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"));
  EXPECT_EQ(created.headers.Get("Location").value_or(""),
            "/api/v1/sites/" + std::to_string(site_a_) + "/mail/dkim/" + std::to_string(id));

  // The default selector: "poste" and the year and month.
  auto second = Admin("POST", base_, R"({"domain":"news.alpha.example","enabled":false})");
  ASSERT_EQ(second.status, 201) << second.body;
  const auto second_json = nlohmann::json::parse(second.body);
  EXPECT_TRUE(second_json["selector"].get<std::string>().starts_with("poste20")) << second.body;
  EXPECT_EQ(second_json["selector"].get<std::string>().size(), 11u);
  EXPECT_EQ(second_json["enabled"], false);

  auto list = Admin("GET", base_);
  ASSERT_EQ(list.status, 200) << list.body;
  auto items = nlohmann::json::parse(list.body)["items"];
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0]["id"], id);
  EXPECT_EQ(list.body.find("PRIVATE"), std::string::npos);
  EXPECT_EQ(Admin("GET", "/api/v1/sites/beta/mail/dkim").body, R"({"items":[],"next_cursor":null})");

  auto one = Admin("GET", base_ + "/" + std::to_string(id));
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(nlohmann::json::parse(one.body)["dns"], key["dns"]);
  EXPECT_EQ(Admin("GET", "/api/v1/sites/beta/mail/dkim/" + std::to_string(id)).status, 404);

  auto off = Admin("PATCH", base_ + "/" + std::to_string(id), R"({"enabled":false})");
  ASSERT_EQ(off.status, 200) << off.body;
  EXPECT_EQ(nlohmann::json::parse(off.body)["enabled"], false);
  EXPECT_EQ(Admin("PATCH", "/api/v1/sites/beta/mail/dkim/" + std::to_string(id), R"({"enabled":true})").status, 404);

  EXPECT_EQ(Admin("DELETE", base_ + "/" + std::to_string(id)).status, 204);
  EXPECT_EQ(Admin("GET", base_ + "/" + std::to_string(id)).status, 404);
  EXPECT_EQ(Admin("DELETE", base_ + "/" + std::to_string(id)).status, 404);

  // Each change is in the audit log.
  auto audit = Admin("GET", "/api/v1/audit?action=mail_dkim_key.*");
  ASSERT_EQ(audit.status, 200) << audit.body;
  for (const char* action : {"mail_dkim_key.create", "mail_dkim_key.disable", "mail_dkim_key.delete"}) {
    EXPECT_NE(audit.body.find(action), std::string::npos) << action;
  }
  EXPECT_EQ(audit.body.find("PRIVATE"), std::string::npos);
}

TEST_P(MailDkimApi, HostileInputIsRefused) {
  using Strings = std::vector<std::string>;
  const auto post = [&](const std::string& body) { return Admin("POST", base_, body); };
  auto r = post(R"({"domain":"exa mple.com"})");
  EXPECT_EQ(r.status, 422);
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(Fields(r), Strings{"domain:invalid_domain"});
  EXPECT_EQ(Fields(post(R"({"domain":"example.com\r\nBcc: x@evil.example"})")), Strings{"domain:invalid_domain"});
  EXPECT_EQ(Fields(post(R"({"domain":"x.com' OR '1'='1"})")), Strings{"domain:invalid_domain"});
  EXPECT_EQ(Fields(post(R"({"domain":"<img src=x onerror=alert(1)>.com"})")), Strings{"domain:invalid_domain"});
  EXPECT_EQ(Fields(post("{\"domain\":\"exa\xff\xfe.com\"}")).size(), 1u);  // invalid UTF-8: refused either way
  EXPECT_EQ(Fields(post(R"({"domain":"example.com","selector":"a b"})")), Strings{"selector:invalid_selector"});
  EXPECT_EQ(Fields(post(R"({"domain":"example.com","selector":"s\r\n"})")), Strings{"selector:invalid_selector"});
  EXPECT_EQ(Fields(post(R"({"domain":"example.com","selector":7})")), Strings{"selector:invalid_type"});
  EXPECT_EQ(Fields(post(R"({"domain":"example.com","enabled":"yes"})")), Strings{"enabled:invalid_type"});
  EXPECT_EQ(Fields(post(R"({"domain":"example.com","private_key":"-----BEGIN"})")),
            Strings{"private_key:unknown_field"});
  EXPECT_EQ(Fields(post(R"({})")), Strings{"domain:required"});
  EXPECT_EQ(post("[1,2]").status, 400);
  EXPECT_EQ(post("{not json").status, 400);
  EXPECT_EQ(post(R"({"domain":")" + std::string(8000, 'a') + R"(.com"})").status, 413);
  // Nothing was created by any of them.
  EXPECT_EQ(nlohmann::json::parse(Admin("GET", base_).body)["items"].size(), 0u);

  ASSERT_EQ(post(R"({"domain":"example.com","selector":"s1"})").status, 201);
  auto dup = post(R"({"domain":"EXAMPLE.com","selector":"S1"})");
  EXPECT_EQ(dup.status, 409) << dup.body;
  const auto id = nlohmann::json::parse(Admin("GET", base_).body)["items"][0]["id"].get<std::int64_t>();
  const std::string one = base_ + "/" + std::to_string(id);
  EXPECT_EQ(Fields(Admin("PATCH", one, R"({"enabled":"no"})")), Strings{"enabled:invalid_type"});
  EXPECT_EQ(Fields(Admin("PATCH", one, R"({})")), Strings{"enabled:required"});
  EXPECT_EQ(Fields(Admin("PATCH", one, R"({"enabled":true,"domain":"x.com"})")), Strings{"domain:unknown_field"});
  EXPECT_EQ(Admin("GET", base_ + "/abc").status, 404);
  EXPECT_EQ(Admin("GET", base_ + "/-1").status, 404);
  EXPECT_EQ(Admin("GET", base_ + "/99999999999999999999999").status, 404);
}

TEST_P(MailDkimApi, SentMessagesAreSignedAndVerify) {
  ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
  auto account = Admin("POST", "/api/v1/sites/alpha/mail/accounts",
                       nlohmann::json{{"name", "Capture"},
                                      {"type", "smtp"},
                                      {"from", {{"email", "news@alpha.example"}, {"name", "Équipe Alpha"}}},
                                      {"settings",
                                       {{"host", Env("POSTE_TEST_SMTP_HOST")},
                                        {"port", std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str())},
                                        {"tls", "none"}}}}
                           .dump());
  ASSERT_EQ(account.status, 201) << account.body;
  auto created = Admin("POST", base_, R"({"domain":"alpha.example","selector":"api1"})");
  ASSERT_EQ(created.status, 201) << created.body;
  const auto key = nlohmann::json::parse(created.body);
  const std::string record = key["dns"]["value"], name = key["dns"]["name"];
  application().StartJobWorkers(1);

  const auto send = [&](const std::string& token) {
    auto r = Admin("POST", "/api/v1/sites/alpha/mail/messages",
                   nlohmann::json{{"to", {"ada@example.net"}},
                                  {"subject", "Signé " + token},
                                  {"html", "<p>Bonjour " + token + " " + std::string(100, 'z') + "</p>"}}
                       .dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return mail::testing::SmtpCapture().First(token, std::chrono::seconds(15)).eml;
  };

  const std::string token = "dkimapi" + RandomHex(8);
  const std::string eml = send(token);
  ASSERT_FALSE(eml.empty()) << "not captured";
  ASSERT_TRUE(eml.starts_with("DKIM-Signature: ")) << eml.substr(0, 200);
  EXPECT_NE(eml.find("d=alpha.example;"), std::string::npos);
  EXPECT_NE(eml.find("s=api1;"), std::string::npos);
  auto ours = mail::DkimVerify(eml, record);
  EXPECT_EQ(ours.result, mail::DkimResult::kPass) << ours.detail;
  auto theirs = mail::testing::DkimpyVerify(eml, record, name);
  EXPECT_EQ(theirs.exit_code, 0) << theirs.output;

  std::string tampered = eml;
  tampered.replace(tampered.find("zzzz"), 4, "zzzy");
  EXPECT_EQ(mail::DkimVerify(tampered, record).result, mail::DkimResult::kFail);
  EXPECT_EQ(mail::testing::DkimpyVerify(tampered, record, name).exit_code, 1);

  ASSERT_EQ(Admin("PATCH", base_ + "/" + std::to_string(key["id"].get<std::int64_t>()), R"({"enabled":false})").status,
            200);
  const std::string unsigned_eml = send("dkimapi" + RandomHex(8));
  ASSERT_FALSE(unsigned_eml.empty());
  EXPECT_EQ(unsigned_eml.find("DKIM-Signature"), std::string::npos);
}

POSTE_INSTANTIATE_DB_TEST(MailDkimApi);

}  // namespace
}  // namespace poste::testing
