// The OAuth2 connection of Gmail / Outlook accounts through the whole app (issue 5), on SQLite and
// PostgreSQL, against the OAuth2 stand-in: an admin starts, the browser consents and comes back to the
// callback without API credentials, the account shows connected (never a token) and its stored refresh token
// works at the token endpoint; replays, hostile queries, a token endpoint that is down, a flood of callbacks
// and an unconfigured server get clear answers.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "app/config.hpp"
#include "lib/mail/testing/oauth2_standin.hpp"
#include "lib/net/testing/loopback.hpp"
#include "lib/web/form_urlencoded.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_oauth_types.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

const std::string kRedirect = "https://poste.example/api/v1/mail/oauth/callback";
const std::string kCallback = "/api/v1/mail/oauth/callback";

int ClosedPort() { return net::testing::ClosedLoopbackPort(); }

class MailOAuthApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override {
    config.mail.oauth_redirect_url = kRedirect;
    config.mail.oauth_allow_targets = {"127.0.0.1"};
  }

  void SetUp() override {
    standin_ = std::make_unique<mail::testing::OAuth2StandIn>("client-1.apps", "client-secret-1", kRedirect,
                                                              std::vector<std::string>{"https://mail.google.com/"});
    PermissionTable::SetUp();
  }

  std::int64_t AddGmail(const std::string& site, const std::string& token_url = {}) {
    nlohmann::json body = {{"name", "Team <Gmail>"},
                           {"type", "gmail"},
                           {"from", {{"email", "team@gmail.example"}}},
                           {"settings",
                            {{"username", "team@gmail.example"},
                             {"client_id", "client-1.apps"},
                             {"client_secret", "client-secret-1"},
                             {"authorization_url", standin_->authorization_endpoint()},
                             {"token_url", token_url.empty() ? standin_->token_endpoint() : token_url}}}};
    auto r = Call("POST", "/api/v1/sites/" + site + "/mail/accounts", callers_[kAdmin], body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? nlohmann::json::parse(r.body)["id"].get<std::int64_t>() : 0;
  }

  std::string StartUrl(const std::string& site, std::int64_t id) {
    return "/api/v1/sites/" + site + "/mail/accounts/" + std::to_string(id) + "/oauth/start";
  }

  // Start as the admin, consent at the stand-in: the callback's query string, as the provider sends it.
  std::string Consent(const std::string& site, std::int64_t id) {
    auto r = Call("POST", StartUrl(site, id), callers_[kAdmin]);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return "";
    EXPECT_EQ(r.headers.Get("Cache-Control").value_or(""), "no-store");
    const std::string redirect = standin_->Authorize(nlohmann::json::parse(r.body)["authorization_url"]);
    EXPECT_FALSE(redirect.empty());
    return redirect.substr(redirect.find('?') + 1);
  }

  // The browser comes back: no credentials at all.
  web::Response Callback(const std::string& query, const std::string& ip = "203.0.113.5") {
    return Call("GET", kCallback + "?" + query, {}, "", ip);
  }

  nlohmann::json Account(const std::string& site, std::int64_t id) {
    auto r = Call("GET", "/api/v1/sites/" + site + "/mail/accounts/" + std::to_string(id), callers_[kAdmin]);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.status == 200 ? nlohmann::json::parse(r.body) : nlohmann::json::object();
  }

  std::unique_ptr<mail::testing::OAuth2StandIn> standin_;
};

TEST_P(MailOAuthApi, TheBrowserFlowConnectsTheAccount) {
  const auto id = AddGmail("alpha");
  EXPECT_EQ(Account("alpha", id)["connected"], false);
  const std::string query = Consent("alpha", id);
  const auto asked = standin_->LastAuthorization();
  EXPECT_EQ(asked.at("redirect_uri"), kRedirect);
  EXPECT_EQ(asked.at("access_type"), "offline");
  EXPECT_EQ(asked.at("code_challenge_method"), "S256");

  auto page = Callback(query);
  EXPECT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Account connected"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("Team &lt;Gmail&gt;"), std::string::npos);
  EXPECT_EQ(page.headers.Get("Content-Type").value_or("").rfind("text/html", 0), 0u);
  EXPECT_EQ(page.headers.Get("Cache-Control").value_or(""), "no-store");
  EXPECT_NE(page.body.find(R"(<meta name="referrer" content="no-referrer">)"), std::string::npos);
  EXPECT_EQ(page.body.find("<a "), std::string::npos) << "no link to pass the address on";
  EXPECT_NE(page.headers.Get("Content-Security-Policy").value_or("").find("default-src 'none'"), std::string::npos);
  const auto fields = web::ParseFormFields(query);
  EXPECT_EQ(page.body.find(fields.at("code")), std::string::npos);
  EXPECT_EQ(page.body.find(fields.at("state")), std::string::npos);
  EXPECT_TRUE(standin_->Problems().empty());
  const auto sent = standin_->LastTokenRequest();
  EXPECT_EQ(sent.at("grant_type"), "authorization_code");
  EXPECT_EQ(sent.at("redirect_uri"), kRedirect);
  EXPECT_EQ(sent.at("client_secret"), "client-secret-1");
  EXPECT_EQ(sent.at("code_verifier").size(), 43u);

  const auto account = Account("alpha", id);
  EXPECT_EQ(account["connected"], true);
  EXPECT_EQ(account["settings"]["refresh_token_set"], true);
  EXPECT_EQ(account.dump().find("1//rt-"), std::string::npos) << account.dump();
  EXPECT_FALSE(account["settings"].contains("oauth_pending_set"));

  // The stored refresh token is the one the provider issued: the refresh grant a send starts with accepts it.
  const auto box = crypto::SecretBox::FromKeys(master_key_);
  mail::MailAccountsService accounts(db(), box, {});
  const auto stored = accounts.Get(site_a_, id);
  const std::string refresh_token = stored.secrets.at("refresh_token");
  const mail::OAuth2TokenClient client(mail::ProviderFor(stored), {"client-1.apps", "client-secret-1", ""},
                                       net::HttpClient({"test", net::TargetPolicy::WithAllowList({"127.0.0.1"})}));
  EXPECT_FALSE(client.Refresh(refresh_token).access_token.empty());

  // The same callback again: the state is used up, the token stays.
  auto replay = Callback(query);
  EXPECT_EQ(replay.status, 400);
  EXPECT_NE(replay.body.find("invalid_state"), std::string::npos) << replay.body;
  EXPECT_EQ(accounts.Get(site_a_, id).secrets.at("refresh_token"), refresh_token);

  // The audit log has both ends, no token.
  auto audit = Call("GET", "/api/v1/audit?limit=100", callers_[kAdmin]);
  ASSERT_EQ(audit.status, 200) << audit.body;
  EXPECT_NE(audit.body.find("mail_account.oauth_start"), std::string::npos);
  EXPECT_NE(audit.body.find("mail_account.oauth_connect"), std::string::npos);
  EXPECT_EQ(audit.body.find(refresh_token), std::string::npos);
}

TEST_P(MailOAuthApi, HostileCallbacksGetAnHtmlErrorAndSpendNothing) {
  const auto id = AddGmail("alpha");
  const std::string query = Consent("alpha", id);
  const auto fields = web::ParseFormFields(query);
  const std::string state = "state=" + fields.at("state");
  for (const auto& [hostile, code] : std::vector<std::pair<std::string, std::string>>{
           {"", "invalid_state"},
           {"state=%ZZ", "invalid_request"},
           {"code=a%0D%0AX-Injected:%201&" + state, "invalid_request"},
           {"code=%FF%FE&" + state, "invalid_request"},
           {"code=x&" + state + "&" + state, "invalid_request"},
           {"code=" + std::string(20000, 'a') + "&" + state, "invalid_request"},
           {"code=x&state=" + std::string(300, '1'), "invalid_state"},
           {"code=x&state=1%27%20OR%20%271%27%3D%271", "invalid_state"},
           {"code=x&state=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "invalid_state"},
       }) {
    auto r = Callback(hostile);
    EXPECT_EQ(r.status, 400) << hostile.substr(0, 80) << ": " << r.body.substr(0, 300);
    EXPECT_NE(r.body.find(code), std::string::npos) << hostile.substr(0, 80);
    EXPECT_EQ(r.body.find("<script>"), std::string::npos);
    EXPECT_EQ(r.headers.Get("Content-Type").value_or("").rfind("text/html", 0), 0u);
    EXPECT_EQ(r.headers.Has("X-Injected"), false);
  }
  EXPECT_EQ(Account("alpha", id)["connected"], false);
  // The real callback still works.
  EXPECT_EQ(Callback(query).status, 200);
  EXPECT_EQ(Account("alpha", id)["connected"], true);
}

TEST_P(MailOAuthApi, ADeclinedConsentAndADownTokenEndpointSayWhy) {
  const auto id = AddGmail("alpha");
  auto query = web::ParseFormFields(Consent("alpha", id));
  auto denied = Callback("error=access_denied&state=" + query.at("state"));
  EXPECT_EQ(denied.status, 400);
  EXPECT_NE(denied.body.find("access_denied"), std::string::npos) << denied.body;

  const auto down = AddGmail("alpha", "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/token");
  auto r = Callback(Consent("alpha", down));
  EXPECT_EQ(r.status, 502) << r.body;
  EXPECT_NE(r.body.find("token_endpoint_unavailable"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("127.0.0.1"), std::string::npos) << "no internals in the page";
  EXPECT_EQ(Account("alpha", down)["connected"], false);
}

TEST_P(MailOAuthApi, CallbacksAreLimitedPerClientAddress) {
  int limited = 0;
  for (int i = 0; i < 40; ++i) {
    auto r = Callback("code=x&state=1.1." + std::string(43, 'a'), "203.0.113.77");
    if (r.status == 429) ++limited;
  }
  EXPECT_GE(limited, 5);
  EXPECT_EQ(Callback("code=x", "203.0.113.78").status, 400) << "another address is not limited";
}

TEST_P(MailOAuthApi, StartAnswersClearProblems) {
  auto smtp = Call("POST", "/api/v1/sites/alpha/mail/accounts", callers_[kAdmin],
                   R"({"name":"Outbox","type":"outbox","from":{"email":"news@alpha.example"}})");
  ASSERT_EQ(smtp.status, 201);
  const auto outbox = nlohmann::json::parse(smtp.body)["id"].get<std::int64_t>();
  auto r = Call("POST", StartUrl("alpha", outbox), callers_[kAdmin]);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
  const auto id = AddGmail("alpha");
  EXPECT_EQ(Call("POST", StartUrl("beta", id), callers_[kAdmin]).status, 404);
  EXPECT_EQ(Call("POST", StartUrl("alpha", id), callers_[kEditorA]).status, 403);
  EXPECT_EQ(Call("POST", StartUrl("alpha", id)).status, 401);
}

POSTE_INSTANTIATE_DB_TEST(MailOAuthApi);

// Without mail.oauth_redirect_url the flow cannot start; accounts are still created (and can take a pasted
// refresh token).
class MailOAuthUnconfiguredApi : public PermissionTable {};

TEST_P(MailOAuthUnconfiguredApi, StartSaysWhatToConfigure) {
  auto created = Call("POST", "/api/v1/sites/alpha/mail/accounts", callers_[kAdmin],
                      R"({"name":"G","type":"gmail","from":{"email":"g@gmail.example"},)"
                      R"("settings":{"username":"g@gmail.example","client_id":"c","client_secret":"s"}})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(nlohmann::json::parse(created.body)["connected"], false);
  const auto id = nlohmann::json::parse(created.body)["id"].get<std::int64_t>();
  auto r = Call("POST", "/api/v1/sites/alpha/mail/accounts/" + std::to_string(id) + "/oauth/start", callers_[kAdmin]);
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_NE(r.body.find("mail.oauth_redirect_url"), std::string::npos) << r.body;
}

POSTE_INSTANTIATE_DB_TEST(MailOAuthUnconfiguredApi);

TEST(MailOAuthConfig, TheRedirectUrlAndAllowListAreChecked) {
  auto load = [](std::map<std::string, std::string> env) {
    app::LoadOptions options;
    options.default_config_path = "/nonexistent/poste.toml";
    options.environment = std::move(env);
    return app::LoadConfig(options);
  };
  EXPECT_EQ(load({}).mail.oauth_redirect_url, "");
  EXPECT_TRUE(load({}).mail.oauth_allow_targets.empty());
  auto c =
      load({{"POSTE_MAIL__OAUTH_REDIRECT_URL", kRedirect}, {"POSTE_MAIL__OAUTH_ALLOW_TARGETS", "127.0.0.1,idp.lan"}});
  EXPECT_EQ(c.mail.oauth_redirect_url, kRedirect);
  EXPECT_EQ(c.mail.oauth_allow_targets, (std::vector<std::string>{"127.0.0.1", "idp.lan"}));
  for (const char* bad : {"callback", "ftp://poste.example/cb", "https://poste.example/cb#frag", "https://",
                          "https://poste.example/cb\r\nX: y", "javascript:alert(1)"}) {
    EXPECT_THROW(load({{"POSTE_MAIL__OAUTH_REDIRECT_URL", bad}}), app::ConfigError) << bad;
  }
  EXPECT_THROW(load({{"POSTE_MAIL__OAUTH_ALLOW_TARGETS", "not a host!"}}), app::ConfigError);
}

}  // namespace
}  // namespace poste::testing
