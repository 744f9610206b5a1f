// TLS to mail servers through the whole app (issue 5), on SQLite and PostgreSQL, against the TLS listeners of
// scripts/test-services: with mail.tls_ca_file set to their CA, SMTP accounts with tls "implicit" and
// "starttls" pass their test and deliver a message sent by the app's job workers (captured over TLS), and an
// IMAP account with tls "implicit" syncs; an account demanding STARTTLS from a server without it fails with
// an answer that says so. Without the CA (the system's store only) the same accounts fail and say the
// certificate is not trusted.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "lib/ids.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "lib/mail/testing/tls_services.hpp"
#include "modules/inbox/inbox_test_support.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class MailTlsApi : public PermissionTable {
 protected:
  virtual bool TrustTheTestCa() const { return true; }

  void Configure(app::Config& config) override {
    config.mail.smtp_allow_targets = {"127.0.0.1"};
    config.inbox.allow_private_hosts = {"127.0.0.1"};
    config.jobs.poll_interval_ms = 50;
    if (TrustTheTestCa()) config.mail.tls_ca_file = Env("POSTE_TEST_TLS_CA_FILE");
  }

  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    POSTE_REQUIRE_TLS_SERVICES(tls_);
    PermissionTable::SetUp();
  }

  // Creates an SMTP account on site alpha and runs its test: {"ok", "outcome", "answer"} and the account id.
  std::pair<nlohmann::json, std::int64_t> SmtpAccount(const std::string& tls, int port) {
    auto created = Call("POST", "/api/v1/sites/alpha/mail/accounts", callers_[kAdmin],
                        nlohmann::json{{"name", "TLS " + tls + " " + RandomHex(4)},
                                       {"type", "smtp"},
                                       {"from", {{"email", "news@alpha.example"}}},
                                       {"settings", {{"host", "127.0.0.1"}, {"port", port}, {"tls", tls}}}}
                            .dump());
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = nlohmann::json::parse(created.body).value("id", std::int64_t{0});
    auto test = Call("POST", "/api/v1/sites/alpha/mail/accounts/" + std::to_string(id) + "/test", callers_[kAdmin]);
    EXPECT_EQ(test.status, 200) << test.body;
    return {nlohmann::json::parse(test.body, nullptr, false), id};
  }

  nlohmann::json ImapSync(const std::string& tls, int port, const std::string& folder) {
    auto created = Call("POST", "/api/v1/inbox/accounts", callers_[kEditorA],
                        nlohmann::json{{"name", "TLS inbox"},
                                       {"host", "127.0.0.1"},
                                       {"port", port},
                                       {"tls", tls},
                                       {"username", Env("POSTE_TEST_IMAP_USER")},
                                       {"password", Env("POSTE_TEST_IMAP_PASSWORD")},
                                       {"mailbox", folder}}
                            .dump());
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = nlohmann::json::parse(created.body).value("id", std::int64_t{0});
    auto sync = Call("POST", "/api/v1/inbox/accounts/" + std::to_string(id) + "/sync", callers_[kEditorA]);
    EXPECT_EQ(sync.status, 200) << sync.body;
    return nlohmann::json::parse(sync.body, nullptr, false);
  }

  mail::testing::TlsServices tls_;
};

TEST_P(MailTlsApi, SmtpAccountsOverTlsTestAndDeliver) {
  auto [implicit, implicit_id] = SmtpAccount("implicit", tls_.smtps_port);
  EXPECT_EQ(implicit["ok"], true) << implicit.dump();
  auto [starttls, starttls_id] = SmtpAccount("starttls", tls_.smtp_starttls_port);
  EXPECT_EQ(starttls["ok"], true) << starttls.dump();
  (void)starttls_id;
  // The capture server's plain port offers no STARTTLS: the demand is not dropped quietly.
  auto [plain, plain_id] = SmtpAccount("starttls", std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str()));
  (void)plain_id;
  EXPECT_EQ(plain["ok"], false);
  EXPECT_EQ(plain["outcome"], "permanent_failure");
  EXPECT_NE(plain["answer"].get<std::string>().find("does not offer STARTTLS"), std::string::npos) << plain.dump();

  // A message through the implicit-TLS account, sent by the app's own workers.
  application().StartJobWorkers(1);
  const std::string token = "tlsapi" + RandomHex(8);
  auto sent = Call("POST", "/api/v1/sites/alpha/mail/messages", callers_[kAdmin],
                   nlohmann::json{{"account_id", implicit_id},
                                  {"to", {"ada@example.net"}},
                                  {"subject", "Over TLS " + token},
                                  {"text", "Hello " + token}}
                       .dump());
  ASSERT_EQ(sent.status, 202) << sent.body;
  auto envelope = mail::testing::SmtpCapture().First(token, std::chrono::seconds(15)).envelope;
  ASSERT_TRUE(envelope.is_object()) << "not captured";
  EXPECT_EQ(envelope["tls"], true);
  EXPECT_EQ(envelope["port"], tls_.smtps_port);
}

TEST_P(MailTlsApi, ImapAccountOverTlsSyncs) {
  inbox::testing::DovecotFolder folder("api-tls");
  folder.Deliver(
      "From: Ada <ada@example.org>\nTo: support@poste.example\nSubject: Over IMAPS\nMessage-ID: <imaps@x.example>\n"
      "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nHello.\n");
  auto result = ImapSync("implicit", tls_.imaps_port, folder.name());
  EXPECT_EQ(result["ok"], true) << result.dump();
  EXPECT_EQ(result["fetched"], 1);
}

POSTE_INSTANTIATE_DB_TEST(MailTlsApi);

// The same servers, trusted by nobody: Poste says why it does not talk to them.
class MailTlsUntrustedApi : public MailTlsApi {
 protected:
  bool TrustTheTestCa() const override { return false; }
};

TEST_P(MailTlsUntrustedApi, AnUntrustedCertificateIsReportedClearly) {
  auto [implicit, implicit_id] = SmtpAccount("implicit", tls_.smtps_port);
  (void)implicit_id;
  EXPECT_EQ(implicit["ok"], false);
  EXPECT_EQ(implicit["outcome"], "permanent_failure");
  EXPECT_NE(implicit["answer"].get<std::string>().find("is not trusted"), std::string::npos) << implicit.dump();
  auto [starttls, starttls_id] = SmtpAccount("starttls", tls_.smtp_starttls_port);
  (void)starttls_id;
  EXPECT_EQ(starttls["ok"], false);
  EXPECT_NE(starttls["answer"].get<std::string>().find("is not trusted"), std::string::npos) << starttls.dump();

  inbox::testing::DovecotFolder folder("api-tls-untrusted");
  auto result = ImapSync("implicit", tls_.imaps_port, folder.name());
  EXPECT_EQ(result["ok"], false);
  EXPECT_NE(result["error"].get<std::string>().find("TLS certificate is not trusted"), std::string::npos)
      << result.dump();
}

POSTE_INSTANTIATE_DB_TEST(MailTlsUntrustedApi);

}  // namespace
}  // namespace poste::testing
