// The OAuth2 connection of Gmail / Outlook accounts on SQLite and PostgreSQL, against the OAuth2 stand-in
// (lib/mail/testing), which checks the published formats: the authorization URL (S256 challenge, state,
// offline access, the registered redirect URI) and the token request (form-encoded POST, grant_type
// authorization_code, code_verifier, the same redirect_uri, the client's credentials in the body).
// Success stores the refresh token sealed, and the send path's refresh grant works with it; replayed,
// expired, foreign and hostile states, provider errors and a token endpoint that is down or misbehaves
// connect nothing and say why.
#include "modules/mail/mail_oauth_service.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <soci/soci.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "lib/mail/testing/oauth2_standin.hpp"
#include "lib/net/testing/loopback.hpp"
#include "lib/web/form_urlencoded.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_oauth_page.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::mail {
namespace {

const std::string kRedirect = "https://poste.example/api/v1/mail/oauth/callback";

int ClosedPort() { return net::testing::ClosedLoopbackPort(); }

std::map<std::string, std::string, std::less<>> QueryOf(const std::string& url) {
  return web::ParseFormFields(url.substr(url.find('?') + 1));
}

class MailOAuthTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    site_ = AddSite("alpha");
    other_ = AddSite("beta");
    AccountsOptions options;
    options.now_ms = [this] { return now_; };
    options.transports.outbox_root = "/nonexistent";
    accounts_ = std::make_unique<MailAccountsService>(db(), *box_, std::move(options));
    standin_ = std::make_unique<testing::OAuth2StandIn>("client-1.apps", "client-secret-1", kRedirect,
                                                        std::vector<std::string>{"https://mail.google.com/"});
    origin_.user_id = 7;
    origin_.ip = "192.0.2.9";
    Rebuild();
  }

  void Rebuild(std::string redirect = kRedirect,
               net::TargetPolicy policy = net::TargetPolicy::WithAllowList({"127.0.0.1"})) {
    OAuthOptions o;
    o.redirect_url = std::move(redirect);
    o.token_policy = std::move(policy);
    o.token_timeout = std::chrono::milliseconds(3000);
    o.now_ms = [this] { return now_; };
    o.may_manage = [this](std::int64_t user_id, std::int64_t) { return user_id == 7 && allowed_; };
    service_ = std::make_unique<MailOAuthService>(db(), *accounts_, std::move(o));
  }

  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite s;
    s.slug = slug;
    s.name = slug;
    return db().WriteValue([&](soci::session& session) { return sites::store::Insert(session, s, 1); });
  }

  Account AddGmail(std::int64_t site, const std::string& name = "Gmail <Team>") {
    NewAccount n;
    n.name = name;
    n.type = "gmail";
    n.from = {"Team", "team@gmail.example"};
    n.settings = {{"username", "team@gmail.example"},
                  {"client_id", "client-1.apps"},
                  {"client_secret", "client-secret-1"},
                  {"authorization_url", standin_->authorization_endpoint()},
                  {"token_url", standin_->token_endpoint()}};
    return accounts_->Create(origin_, site, n);
  }

  // Start, then the user consents at the stand-in: the query the provider redirects the browser back with.
  CallbackQuery Consent(std::int64_t site, std::int64_t account) {
    auto start = service_->Start(origin_, site, account);
    const std::string redirect = standin_->Authorize(start.authorization_url);
    EXPECT_FALSE(redirect.empty()) << Problems();
    if (redirect.empty()) return {};
    EXPECT_EQ(redirect.rfind(kRedirect + "?", 0), 0u) << redirect;
    auto q = QueryOf(redirect);
    return {q["code"], q["state"], std::nullopt};
  }

  std::string Problems() {
    std::string out;
    for (const auto& p : standin_->Problems()) out += p + "\n";
    return out;
  }

  std::string RawSecrets(std::int64_t id) {
    std::string raw;
    db().Read([&](soci::session& s) {
      long long i = id;
      s << "SELECT secrets FROM mail_accounts WHERE id = :id", soci::use(i), soci::into(raw);
    });
    return raw;
  }

  std::string AuditChanges(const std::string& action) {
    std::string all;
    db().Read([&](soci::session& s) {
      std::string changes;
      soci::statement st = (s.prepare << "SELECT changes FROM audit_log WHERE action = :a ORDER BY id",
                            soci::use(action), soci::into(changes));
      st.execute();
      while (st.fetch()) all += changes + "\n";
    });
    return all;
  }

  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<MailAccountsService> accounts_;
  std::unique_ptr<MailOAuthService> service_;
  std::unique_ptr<testing::OAuth2StandIn> standin_;
  audit::Origin origin_;
  bool allowed_ = true;
  std::int64_t site_ = 0, other_ = 0, now_ = 1'700'000'000'000;
};

TEST_P(MailOAuthTest, ConnectsTheAccountAndTheSendPathRefreshesWithTheStoredToken) {
  const Account account = AddGmail(site_);
  EXPECT_EQ(ToJson(account)["connected"], false);
  auto start = service_->Start(origin_, site_, account.id);
  EXPECT_EQ(start.expires_at, now_ + 10 * 60 * 1000);
  auto asked = QueryOf(start.authorization_url);
  EXPECT_EQ(start.authorization_url.rfind(standin_->authorization_endpoint() + "?", 0), 0u);
  EXPECT_EQ(asked["redirect_uri"], kRedirect);
  EXPECT_EQ(asked["access_type"], "offline");
  EXPECT_EQ(asked["prompt"], "consent");
  EXPECT_EQ(asked["scope"], "https://mail.google.com/");
  EXPECT_EQ(asked["code_challenge_method"], "S256");
  EXPECT_EQ(asked["login_hint"], "team@gmail.example");
  EXPECT_EQ(asked["state"].rfind(std::to_string(site_) + "." + std::to_string(account.id) + ".", 0), 0u);
  // The state and the verifier are not stored as such.
  const std::string verifier_free = RawSecrets(account.id);
  EXPECT_EQ(verifier_free.find(asked["state"].substr(asked["state"].rfind('.') + 1)), std::string::npos);

  const std::string redirect = standin_->Authorize(start.authorization_url);
  ASSERT_FALSE(redirect.empty()) << Problems();
  auto back = QueryOf(redirect);
  auto result = service_->Complete(origin_, {back["code"], back["state"], std::nullopt});
  ASSERT_TRUE(result.ok()) << FailureCode(result.failure) << "\n" << Problems();
  EXPECT_EQ(result.site_id, site_);
  EXPECT_EQ(result.account_id, account.id);
  EXPECT_EQ(result.account_name, "Gmail <Team>");
  EXPECT_TRUE(standin_->Problems().empty()) << Problems();

  // The token request as RFC 6749 §4.1.3 and RFC 7636 §4.5 publish it.
  auto sent = standin_->LastTokenRequest();
  EXPECT_EQ(sent["grant_type"], "authorization_code");
  EXPECT_EQ(sent["code"], back["code"]);
  EXPECT_EQ(sent["redirect_uri"], asked["redirect_uri"]);
  EXPECT_EQ(sent["code_verifier"].size(), 43u);
  EXPECT_EQ(PkceChallenge(sent["code_verifier"]), asked["code_challenge"]);
  EXPECT_EQ(sent["client_id"], "client-1.apps");
  EXPECT_EQ(sent["client_secret"], "client-secret-1");

  const Account connected = accounts_->Get(site_, account.id);
  const std::string refresh_token = connected.secrets.at("refresh_token");
  EXPECT_EQ(refresh_token.rfind("1//rt-", 0), 0u);
  EXPECT_EQ(connected.secrets.count(std::string(kPendingSecret)), 0u) << "the pending authorization is used up";
  const auto json = ToJson(connected);
  EXPECT_EQ(json["connected"], true);
  EXPECT_EQ(json["settings"]["refresh_token_set"], true);
  EXPECT_EQ(json.dump().find(refresh_token), std::string::npos);
  EXPECT_EQ(json.dump().find("oauth_pending"), std::string::npos);
  EXPECT_EQ(RawSecrets(account.id).find(refresh_token), std::string::npos) << "sealed at rest";
  const std::string audit = AuditChanges("mail_account.oauth_connect") + AuditChanges("mail_account.oauth_start");
  EXPECT_NE(audit.find("\"connected\""), std::string::npos) << audit;
  EXPECT_EQ(audit.find(refresh_token), std::string::npos);
  EXPECT_EQ(audit.find(back["code"]), std::string::npos);

  // What a send does first (wire_mail's hook): the refresh grant with the stored token gives an access token.
  const OAuth2TokenClient client(
      ProviderFor(connected),
      {connected.settings["client_id"].get<std::string>(), connected.secrets.at("client_secret"), ""},
      net::HttpClient({"test", net::TargetPolicy::WithAllowList({"127.0.0.1"})}));
  const TokenSet fresh = client.Refresh(refresh_token);
  EXPECT_EQ(fresh.access_token.rfind("ya29.at-", 0), 0u);
  EXPECT_EQ(standin_->LastTokenRequest()["grant_type"], "refresh_token");
  EXPECT_TRUE(standin_->Problems().empty()) << Problems();
}

TEST_P(MailOAuthTest, AReplayedStateConnectsNothing) {
  const Account account = AddGmail(site_);
  auto query = Consent(site_, account.id);
  ASSERT_TRUE(service_->Complete(origin_, query).ok()) << Problems();
  const std::string stored = accounts_->Get(site_, account.id).secrets.at("refresh_token");
  auto again = service_->Complete(origin_, query);
  EXPECT_EQ(again.failure, CallbackFailure::kInvalidState);
  EXPECT_EQ(FailureStatus(again.failure), 400);
  EXPECT_EQ(again.site_id, 0) << "an unknown state names no account";
  EXPECT_EQ(accounts_->Get(site_, account.id).secrets.at("refresh_token"), stored);
  // A newer start replaces the older one: the first state is dead, the second works.
  auto first = Consent(site_, account.id);
  auto second = Consent(site_, account.id);
  EXPECT_EQ(service_->Complete(origin_, first).failure, CallbackFailure::kInvalidState);
  EXPECT_TRUE(service_->Complete(origin_, second).ok()) << Problems();
}

TEST_P(MailOAuthTest, AnExpiredStateIsRefusedAndUsedUp) {
  const Account account = AddGmail(site_);
  auto query = Consent(site_, account.id);
  now_ += 10 * 60 * 1000;
  auto r = service_->Complete(origin_, query);
  EXPECT_EQ(r.failure, CallbackFailure::kExpiredState);
  EXPECT_EQ(FailureCode(r.failure), "expired_state");
  EXPECT_EQ(r.account_id, account.id);
  EXPECT_EQ(service_->Complete(origin_, query).failure, CallbackFailure::kInvalidState);
  EXPECT_EQ(accounts_->Get(site_, account.id).secrets.count("refresh_token"), 0u);
  EXPECT_NE(AuditChanges("mail_account.oauth_connect").find("expired_state"), std::string::npos);
}

TEST_P(MailOAuthTest, AStateOfAnotherAccountSiteOrUserConnectsNothing) {
  const Account mine = AddGmail(site_);
  const Account theirs = AddGmail(other_);
  auto query = Consent(site_, mine.id);
  auto pending_of_theirs = Consent(other_, theirs.id);
  // The random part of one flow with the ids of another: no account takes it, and neither flow is spent.
  const std::string secret = query.state->substr(query.state->rfind('.') + 1);
  for (const auto& forged : {MakeState(other_, theirs.id, secret), MakeState(other_, mine.id, secret),
                             MakeState(site_, theirs.id, secret)}) {
    EXPECT_EQ(service_->Complete(origin_, {query.code, forged, std::nullopt}).failure, CallbackFailure::kInvalidState)
        << forged;
  }
  EXPECT_TRUE(service_->Complete(origin_, pending_of_theirs).ok()) << Problems();
  EXPECT_EQ(accounts_->Get(site_, mine.id).secrets.count("refresh_token"), 0u);
  // Who started the flow may no longer manage the site's accounts: refused, nothing stored.
  allowed_ = false;
  auto r = service_->Complete(origin_, query);
  EXPECT_EQ(r.failure, CallbackFailure::kNotAllowed);
  EXPECT_EQ(FailureStatus(r.failure), 403);
  EXPECT_EQ(accounts_->Get(site_, mine.id).secrets.count("refresh_token"), 0u);
  // The account of another site is not reachable from this site's start.
  EXPECT_THROW(service_->Start(origin_, site_, theirs.id), AppError);
}

TEST_P(MailOAuthTest, TheProvidersErrorsAreReportedWithoutDetails) {
  const Account account = AddGmail(site_);
  auto query = Consent(site_, account.id);
  auto denied = service_->Complete(origin_, {std::nullopt, query.state, std::string("access_denied")});
  EXPECT_EQ(denied.failure, CallbackFailure::kAccessDenied);
  EXPECT_EQ(service_->Complete(origin_, query).failure, CallbackFailure::kInvalidState) << "the state is used up";
  query = Consent(site_, account.id);
  auto other = service_->Complete(origin_, {std::nullopt, query.state, std::string("invalid_scope\r\nX: y")});
  EXPECT_EQ(other.failure, CallbackFailure::kProviderError);
  const std::string audit = AuditChanges("mail_account.oauth_connect");
  EXPECT_NE(audit.find("access_denied"), std::string::npos) << audit;
  EXPECT_EQ(audit.find("X: y"), std::string::npos) << "a hostile error code is not logged as given";
  query = Consent(site_, account.id);
  EXPECT_EQ(service_->Complete(origin_, {std::nullopt, query.state, std::nullopt}).failure,
            CallbackFailure::kMissingCode);
  EXPECT_EQ(accounts_->Get(site_, account.id).secrets.count("refresh_token"), 0u);
}

TEST_P(MailOAuthTest, ATokenEndpointThatIsDownOrMisbehavesIsA502) {
  const Account account = AddGmail(site_);
  // Down: nothing listens.
  AccountPatch patch;
  patch.settings = nlohmann::json{{"token_url", "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/token"}};
  accounts_->Update(origin_, site_, account.id, patch);
  auto r = service_->Complete(origin_, Consent(site_, account.id));
  EXPECT_EQ(r.failure, CallbackFailure::kTokenUnavailable);
  EXPECT_EQ(FailureStatus(r.failure), 502);
  patch.settings = nlohmann::json{{"token_url", standin_->token_endpoint()}};
  accounts_->Update(origin_, site_, account.id, patch);
  // A 503, then tokens without a refresh token, then a body that is not JSON.
  standin_->ForceNext({{503, R"({"error":"temporarily_unavailable"})", {{"Content-Type", "application/json"}}}});
  EXPECT_EQ(service_->Complete(origin_, Consent(site_, account.id)).failure, CallbackFailure::kTokenUnavailable);
  standin_->ForceNext({{200,
                        R"({"access_token":"ya29.x","token_type":"Bearer","expires_in":3599})",
                        {{"Content-Type", "application/json"}}}});
  EXPECT_EQ(service_->Complete(origin_, Consent(site_, account.id)).failure, CallbackFailure::kNoRefreshToken);
  standin_->ForceNext({{200, "<html>hello</html>", {{"Content-Type", "text/html"}}}});
  EXPECT_EQ(service_->Complete(origin_, Consent(site_, account.id)).failure, CallbackFailure::kBadTokenResponse);
  // The code refused (the stand-in knows no such code), and the client refused (a wrong secret).
  auto query = Consent(site_, account.id);
  query.code = "not-a-code-it-issued";
  EXPECT_EQ(service_->Complete(origin_, query).failure, CallbackFailure::kCodeRefused);
  patch.settings = nlohmann::json{{"client_secret", "wrong"}};
  accounts_->Update(origin_, site_, account.id, patch);
  EXPECT_EQ(service_->Complete(origin_, Consent(site_, account.id)).failure, CallbackFailure::kClientRefused);
  EXPECT_EQ(accounts_->Get(site_, account.id).secrets.count("refresh_token"), 0u);
  // A token endpoint on loopback without mail.oauth_allow_targets: the SSRF guard refuses to call it.
  patch.settings = nlohmann::json{{"client_secret", "client-secret-1"}};
  accounts_->Update(origin_, site_, account.id, patch);
  Rebuild(kRedirect, net::TargetPolicy());
  EXPECT_EQ(service_->Complete(origin_, Consent(site_, account.id)).failure, CallbackFailure::kTokenUnavailable);
  EXPECT_EQ(accounts_->Get(site_, account.id).secrets.count("refresh_token"), 0u);
}

TEST_P(MailOAuthTest, HostileCallbackValuesTouchNothing) {
  const Account account = AddGmail(site_);
  auto query = Consent(site_, account.id);
  const std::string secret = query.state->substr(query.state->rfind('.') + 1);
  const std::string prefix = std::to_string(site_) + "." + std::to_string(account.id) + ".";
  for (const std::string& state :
       {std::string(), prefix, prefix + secret + "\r\n", prefix + secret.substr(1), prefix + secret + "A",
        std::string(100000, 'a'), prefix + std::string("\xff\xfe", 2) + secret.substr(2), "0" + prefix + secret,
        "-" + prefix + secret, prefix + secret.substr(0, 42) + "=", std::to_string(site_) + ".." + secret,
        "1' OR '1'='1." + std::to_string(account.id) + "." + secret}) {
    EXPECT_EQ(service_->Complete(origin_, {query.code, state, std::nullopt}).failure, CallbackFailure::kInvalidState)
        << state.substr(0, 80);
  }
  for (const std::string& code : {std::string("a\r\nb"), std::string(9000, 'c'), std::string("\xff\xfe", 2),
                                  std::string("a\0b", 3), std::string()}) {
    EXPECT_EQ(service_->Complete(origin_, {code, query.state, std::nullopt}).failure, CallbackFailure::kInvalidRequest);
  }
  EXPECT_EQ(service_->Complete(origin_, {std::nullopt, std::nullopt, std::string("access_denied")}).failure,
            CallbackFailure::kInvalidState);
  // After all that, the real callback still works: nothing above spent the flow.
  EXPECT_TRUE(service_->Complete(origin_, query).ok()) << Problems();
}

TEST_P(MailOAuthTest, StartIsOnlyForConfiguredGmailAndOutlookAccounts) {
  NewAccount smtp;
  smtp.name = "Relay";
  smtp.type = "smtp";
  smtp.from = {"", "a@alpha.example"};
  smtp.settings = {{"host", "smtp.example.com"}};
  const auto relay = accounts_->Create(origin_, site_, smtp);
  try {
    service_->Start(origin_, site_, relay.id);
    ADD_FAILURE() << "an smtp account started an OAuth2 flow";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 409);
  }
  try {
    service_->Start(origin_, site_, 999999);
    ADD_FAILURE() << "no such account";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 404);
  }
  const Account account = AddGmail(site_);
  Rebuild("");
  try {
    service_->Start(origin_, site_, account.id);
    ADD_FAILURE() << "started without mail.oauth_redirect_url";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 409);
    EXPECT_NE(e.message().find("mail.oauth_redirect_url"), std::string::npos);
  }
  // Outlook: Microsoft's scopes, with the account's endpoints.
  Rebuild();
  NewAccount outlook;
  outlook.name = "Outlook";
  outlook.type = "outlook";
  outlook.from = {"", "team@contoso.example"};
  outlook.settings = {{"username", "team@contoso.example"}, {"client_id", "c"}, {"client_secret", "s"}};
  const auto o = accounts_->Create(origin_, site_, outlook);
  auto url = service_->Start(origin_, site_, o.id).authorization_url;
  EXPECT_EQ(url.rfind("https://login.microsoftonline.com/common/oauth2/v2.0/authorize?", 0), 0u) << url;
  EXPECT_EQ(QueryOf(url)["scope"], "https://outlook.office.com/SMTP.Send offline_access");
}

POSTE_INSTANTIATE_DB_TEST(MailOAuthTest);

TEST(MailOAuthState, OnlyItsOwnShapeParses) {
  const std::string secret(43, 'a');
  auto parts = ParseState("12.345." + secret);
  ASSERT_TRUE(parts);
  EXPECT_EQ(parts->site_id, 12);
  EXPECT_EQ(parts->account_id, 345);
  EXPECT_EQ(parts->secret, secret);
  for (const std::string& bad :
       {std::string(), std::string("12.345."), "12.345." + secret + "\n", "012.345." + secret, "12.-3." + secret,
        "12.345" + secret, "99999999999999999999.1." + secret, "12.345." + std::string(43, '.'),
        "12.345." + std::string(42, 'a') + "\xc3", "12.345." + secret + "." + secret, std::string(200, '1')}) {
    EXPECT_FALSE(ParseState(bad)) << bad;
  }
  EXPECT_EQ(StateHash(secret).size(), 64u);
  EXPECT_FALSE(PendingFromSecret("not json"));
  EXPECT_FALSE(PendingFromSecret(R"({"state_hash":"x"})"));
  PendingAuthorization p{std::string(64, 'f'), "verifier", kRedirect, 7, 99};
  auto back = PendingFromSecret(ToSecret(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->redirect_uri, kRedirect);
  EXPECT_EQ(back->user_id, 7);
}

TEST(MailOAuthPage, SaysWhatHappenedEscapedAndWithoutSecrets) {
  const std::string ok = RenderOAuthPage(CallbackFailure::kNone, "<script>alert(1)</script> & co");
  EXPECT_NE(ok.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(ok.find("<title>Account connected"), std::string::npos);
  EXPECT_NE(ok.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; co"), std::string::npos);
  EXPECT_EQ(ok.find("<script>"), std::string::npos);
  const std::string down = RenderOAuthPage(CallbackFailure::kTokenUnavailable, "");
  EXPECT_NE(down.find("token_endpoint_unavailable"), std::string::npos);
  EXPECT_EQ(down.find("{account}"), std::string::npos);
  EXPECT_EQ(down.find("  "), std::string::npos);
  EXPECT_NE(OAuthPagePolicy().find("default-src 'none'"), std::string::npos);
  for (auto f :
       {CallbackFailure::kInvalidRequest, CallbackFailure::kInvalidState, CallbackFailure::kExpiredState,
        CallbackFailure::kAccessDenied, CallbackFailure::kProviderError, CallbackFailure::kMissingCode,
        CallbackFailure::kNotAllowed, CallbackFailure::kAccountChanged, CallbackFailure::kCodeRefused,
        CallbackFailure::kClientRefused, CallbackFailure::kBadTokenResponse, CallbackFailure::kNoRefreshToken}) {
    const std::string page = RenderOAuthPage(f, "Team");
    EXPECT_NE(page.find("<h1>"), std::string::npos);
    EXPECT_NE(page.find(std::string(FailureCode(f))), std::string::npos);
    EXPECT_GE(FailureStatus(f), 400);
  }
}

}  // namespace
}  // namespace poste::mail
