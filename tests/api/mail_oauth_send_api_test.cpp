// Gmail / Outlook accounts sending through the whole app (issue 5), on SQLite and PostgreSQL, against real
// servers: the OAuth2 stand-in issues and refreshes the tokens, and the capture server of scripts/test-services
// plays the provider's SMTP server on its STARTTLS port (the accounts' smtp_host / smtp_port), checking SASL
// XOAUTH2 as strictly as Google does and recording the user and bearer token of each message. A message sent
// through the messages API arrives over TLS with the token the stand-in issued for the account's refresh
// token; a token the server refuses (an "expired-" user's first) is replaced by one fresh token and the
// message delivered; a revoked grant fails the message for good with an answer saying to reconnect; bad
// smtp_host / smtp_port settings are refused with the field.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "lib/ids.hpp"
#include "lib/mail/oauth2.hpp"
#include "lib/mail/testing/oauth2_standin.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "lib/mail/testing/tls_services.hpp"
#include "lib/web/form_urlencoded.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

const std::string kRedirect = "https://poste.example/api/v1/mail/oauth/callback";
const std::string kAccounts = "/api/v1/sites/alpha/mail/accounts";
const std::string kMessages = "/api/v1/sites/alpha/mail/messages";

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class MailOAuthSendApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override {
    config.mail.smtp_allow_targets = {"127.0.0.1"};
    config.mail.oauth_allow_targets = {"127.0.0.1"};
    config.mail.tls_ca_file = Env("POSTE_TEST_TLS_CA_FILE");
    config.jobs.poll_interval_ms = 50;
  }

  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    POSTE_REQUIRE_TLS_SERVICES(tls_);
    standin_ = std::make_unique<mail::testing::OAuth2StandIn>("client-1.apps", "client-secret-1", kRedirect,
                                                              std::vector<std::string>{"https://mail.google.com/"});
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    application().StartJobWorkers(1);
  }

  // A refresh token the stand-in issued: the user consents, the code is exchanged (as the connection flow
  // would; mail_oauth_api_test runs that flow through the app).
  std::string IssueRefreshToken() {
    mail::OAuth2Provider provider;
    provider.authorization_endpoint = standin_->authorization_endpoint();
    provider.token_endpoint = standin_->token_endpoint();
    provider.scopes = {"https://mail.google.com/"};
    const mail::OAuth2App app{"client-1.apps", "client-secret-1", kRedirect};
    const auto start = mail::StartAuthorization(provider, app);
    const std::string redirect = standin_->Authorize(start.url);
    EXPECT_FALSE(redirect.empty()) << (standin_->Problems().empty() ? "" : standin_->Problems().back());
    const auto query = web::ParseFormFields(redirect.substr(redirect.find('?') + 1));
    const mail::OAuth2TokenClient client(provider, app,
                                         net::HttpClient({"test", net::TargetPolicy::WithAllowList({"127.0.0.1"})}));
    return client.ExchangeCode(query.at("code"), start.code_verifier).refresh_token;
  }

  // The stand-in answers the next refresh grants (once it has checked them) with these access tokens.
  void IssueAccessTokens(const std::vector<std::string>& tokens) {
    std::vector<net::testing::ScriptedResponse> answers;
    for (const auto& t : tokens) {
      answers.emplace_back(200,
                           nlohmann::json{{"access_token", t}, {"token_type", "Bearer"}, {"expires_in", 3599}}.dump(),
                           std::vector<std::pair<std::string, std::string>>{{"Content-Type", "application/json"}});
    }
    standin_->ForceNext(std::move(answers));
  }

  // The refresh grants the stand-in received for `refresh_token`.
  int RefreshGrants(const std::string& refresh_token) {
    int n = 0;
    for (const auto& r : standin_->receiver().Requests()) {
      const auto form = web::ParseFormFields(r.body);
      if (form.contains("grant_type") && form.at("grant_type") == "refresh_token" && form.contains("refresh_token") &&
          form.at("refresh_token") == refresh_token) {
        ++n;
      }
    }
    return n;
  }

  nlohmann::json Settings(const std::string& username, const std::string& refresh_token) {
    return {{"username", username},
            {"client_id", "client-1.apps"},
            {"client_secret", "client-secret-1"},
            {"refresh_token", refresh_token},
            {"token_url", standin_->token_endpoint()},
            {"smtp_host", "127.0.0.1"},
            {"smtp_port", tls_.smtp_starttls_port}};
  }

  web::Response CreateAccount(const std::string& type, const std::string& username, const nlohmann::json& settings) {
    return Call("POST", kAccounts, callers_[kAdmin],
                nlohmann::json{{"name", type + " " + RandomHex(4)},
                               {"type", type},
                               {"from", {{"email", username}, {"name", "Team"}}},
                               {"settings", settings}}
                    .dump());
  }

  std::int64_t AddAccount(const std::string& type, const std::string& username, const std::string& refresh_token) {
    auto r = CreateAccount(type, username, Settings(username, refresh_token));
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? nlohmann::json::parse(r.body)["id"].get<std::int64_t>() : 0;
  }

  // Queues a message through the account holding `token` in its subject; its id.
  std::int64_t Send(std::int64_t account_id, const std::string& token) {
    auto r = Call("POST", kMessages, callers_[kAdmin],
                  nlohmann::json{{"account_id", account_id},
                                 {"to", {"ada@example.net"}},
                                 {"subject", "Through the provider " + token},
                                 {"text", "Hello " + token}}
                      .dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return r.status == 202 ? nlohmann::json::parse(r.body)["id"].get<std::int64_t>() : 0;
  }

  // The message once the app's worker has sent or failed it (waiting up to 15 s).
  nlohmann::json Settled(std::int64_t id) {
    nlohmann::json m;
    for (int i = 0; i < 300; ++i) {
      m = nlohmann::json::parse(Call("GET", kMessages + "/" + std::to_string(id), callers_[kAdmin]).body, nullptr,
                                false);
      if (m.is_object() && (m["state"] == "sent" || m["state"] == "failed")) return m;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "message " << id << " not settled: " << m.dump();
    return m;
  }

  nlohmann::json TestAccount(std::int64_t id) {
    auto r = Call("POST", kAccounts + "/" + std::to_string(id) + "/test", callers_[kAdmin]);
    EXPECT_EQ(r.status, 200) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false);
  }

  mail::testing::TlsServices tls_;
  std::unique_ptr<mail::testing::OAuth2StandIn> standin_;
};

TEST_P(MailOAuthSendApi, GmailAndOutlookDeliverWithTheIssuedTokenOverTls) {
  for (const std::string type : {"gmail", "outlook"}) {
    const std::string refresh_token = IssueRefreshToken();
    ASSERT_FALSE(refresh_token.empty());
    const std::string access_token = "ya29." + type + "-" + RandomHex(12);
    IssueAccessTokens({access_token});
    const std::string username = "team-" + RandomHex(4) + "@" + type + ".example";
    const auto id = AddAccount(type, username, refresh_token);
    ASSERT_NE(id, 0);

    // The account's test authenticates with the token; the message then reuses it from the cache.
    const auto test = TestAccount(id);
    EXPECT_EQ(test["ok"], true) << type << ": " << test.dump();
    const std::string token = "oauthsend" + RandomHex(8);
    const auto message = Settled(Send(id, token));
    EXPECT_EQ(message["state"], "sent") << type << ": " << message.dump();
    EXPECT_EQ(message["attempts"], 1);

    const auto envelope = mail::testing::SmtpCapture().First(token, std::chrono::seconds(15)).envelope;
    ASSERT_TRUE(envelope.is_object()) << type << ": not captured";
    EXPECT_EQ(envelope["auth_mechanism"], "XOAUTH2") << envelope.dump();
    EXPECT_EQ(envelope["auth_user"], username);
    EXPECT_EQ(envelope["auth_token"], access_token);
    EXPECT_EQ(envelope["tls"], true);
    EXPECT_EQ(envelope["port"], tls_.smtp_starttls_port);
    EXPECT_EQ(envelope["mail_from"], username);
    EXPECT_EQ(envelope["rcpt_tos"], nlohmann::json::array({"ada@example.net"}));

    EXPECT_EQ(RefreshGrants(refresh_token), 1) << type << ": one refresh for the test and the message";
    const auto grant = standin_->LastTokenRequest();
    EXPECT_EQ(grant.at("client_id"), "client-1.apps");
    EXPECT_EQ(grant.at("client_secret"), "client-secret-1");
    if (type == "outlook") {  // Microsoft wants the scopes again on refresh
      EXPECT_NE(grant.at("scope").find("https://outlook.office.com/SMTP.Send"), std::string::npos);
    }
  }
  EXPECT_TRUE(standin_->Problems().empty()) << standin_->Problems().front();
}

TEST_P(MailOAuthSendApi, ARefusedTokenIsRefreshedOnceAndTheMessageDelivered) {
  // The capture server refuses the first token it sees for an "expired-" user (334 with Google's JSON, then
  // 535), like a cached token that expired early: one fresh refresh, a new connection, delivered.
  const std::string refresh_token = IssueRefreshToken();
  const std::string first = "ya29.first-" + RandomHex(12), second = "ya29.second-" + RandomHex(12);
  IssueAccessTokens({first, second});
  const std::string username = "expired-" + RandomHex(4) + "@gmail.com";
  const auto id = AddAccount("gmail", username, refresh_token);
  const std::string token = "oauthexpired" + RandomHex(8);
  const auto message = Settled(Send(id, token));
  EXPECT_EQ(message["state"], "sent") << message.dump();
  EXPECT_EQ(message["attempts"], 1) << "the fresh token is tried within the same attempt";
  const auto envelope = mail::testing::SmtpCapture().First(token, std::chrono::seconds(15)).envelope;
  ASSERT_TRUE(envelope.is_object()) << "not captured";
  EXPECT_EQ(envelope["auth_user"], username);
  EXPECT_EQ(envelope["auth_token"], second);
  EXPECT_EQ(RefreshGrants(refresh_token), 2);

  // The fresh token is cached: the next message needs no refresh (and is not refused).
  const std::string next = "oauthexpired" + RandomHex(8);
  EXPECT_EQ(Settled(Send(id, next))["state"], "sent");
  EXPECT_EQ(mail::testing::SmtpCapture().First(next, std::chrono::seconds(15)).envelope["auth_token"], second);
  EXPECT_EQ(RefreshGrants(refresh_token), 2);
}

TEST_P(MailOAuthSendApi, ARevokedGrantFailsTheMessageForGood) {
  const std::string refresh_token = IssueRefreshToken();
  const auto id = AddAccount("gmail", "team-" + RandomHex(4) + "@gmail.com", refresh_token);
  standin_->Revoke(refresh_token);  // the user withdrew Poste's access
  const std::string token = "oauthrevoked" + RandomHex(8);
  const auto message = Settled(Send(id, token));
  const std::string why =
      "The account's authorization was refused (the token endpoint answered HTTP 400: invalid_grant: Token has been "
      "expired or revoked.); connect the account again.";
  EXPECT_EQ(message["state"], "failed") << message.dump();
  EXPECT_EQ(message["attempts"], 1) << "not retried: only reconnecting helps";
  EXPECT_EQ(message["last_error"], why);
  EXPECT_TRUE(mail::testing::SmtpCapture().First(token, std::chrono::milliseconds(500)).envelope.is_null())
      << "delivered anyway";
  const auto test = TestAccount(id);
  EXPECT_EQ(test["ok"], false);
  EXPECT_EQ(test["outcome"], "permanent_failure");
  EXPECT_EQ(test["answer"], why);
}

TEST_P(MailOAuthSendApi, BadSmtpSettingsAreRefusedWithTheField) {
  const std::string username = "team-" + RandomHex(4) + "@gmail.com";
  auto expect_refused = [&](const nlohmann::json& extra, const std::string& field) {
    auto settings = Settings(username, "1//pasted");
    settings.update(extra);
    auto r = CreateAccount("gmail", username, settings);
    EXPECT_EQ(r.status, 422) << extra.dump() << ": " << r.body;
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
    const auto body = nlohmann::json::parse(r.body, nullptr, false);
    bool found = false;
    for (const auto& e : body.value("errors", nlohmann::json::array())) found = found || e["field"] == field;
    EXPECT_TRUE(found) << extra.dump() << ": " << r.body;
  };
  for (const nlohmann::json& port : {nlohmann::json(0), nlohmann::json(70000), nlohmann::json("x")}) {
    expect_refused({{"smtp_port", port}}, "settings.smtp_port");
  }
  for (const char* host : {"smtp gmail com", "smtp.gmail.com\r\nRCPT TO:<x@evil.example>", "smtp.gmail.com\n",
                           "<script>", "smtp.gmail.com'; --"}) {
    expect_refused({{"smtp_host", host}}, "settings.smtp_host");
  }
  auto list = Call("GET", kAccounts, callers_[kAdmin]);
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.body.find(username), std::string::npos) << "nothing stored by refused requests";

  // A PATCH is checked the same way and changes nothing when refused.
  const auto id = AddAccount("gmail", username, "1//pasted");
  const std::string path = kAccounts + "/" + std::to_string(id);
  auto bad = Call("PATCH", path, callers_[kAdmin], R"({"settings":{"smtp_port":0,"smtp_host":"a b"}})");
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("settings.smtp_port"), std::string::npos) << bad.body;
  auto account = nlohmann::json::parse(Call("GET", path, callers_[kAdmin]).body);
  EXPECT_EQ(account["settings"]["smtp_port"], tls_.smtp_starttls_port);
  EXPECT_EQ(account["settings"]["smtp_host"], "127.0.0.1");
  // Removing them goes back to the provider's server.
  auto cleared = Call("PATCH", path, callers_[kAdmin], R"({"settings":{"smtp_port":null,"smtp_host":null}})");
  ASSERT_EQ(cleared.status, 200) << cleared.body;
  EXPECT_FALSE(nlohmann::json::parse(cleared.body)["settings"].contains("smtp_host"));
}

POSTE_INSTANTIATE_DB_TEST(MailOAuthSendApi);

}  // namespace
}  // namespace poste::testing
