#include "lib/mail/oauth2.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "lib/crypto/encoding.hpp"
#include "lib/error.hpp"
#include "lib/mail/provider_http.hpp"
#include "lib/mail/testing/oauth2_standin.hpp"
#include "lib/web/form_urlencoded.hpp"

namespace poste::mail {
namespace {

using net::testing::ScriptedResponse;
using testing::OAuth2StandIn;
using namespace std::chrono_literals;

const OAuth2App kApp{"client-123.apps.example", "s3cr3t&=+/ %", "https://poste.example/api/v1/oauth/callback?x=1"};

net::HttpClient LoopbackClient() {
  return net::HttpClient({"Poste-Test/1", net::TargetPolicy::WithAllowList({"127.0.0.1"})});
}

std::map<std::string, std::string, std::less<>> QueryOf(const std::string& url) {
  return web::ParseFormFields(url.substr(url.find('?') + 1));
}

// A provider pointing at the stand-in, with Gmail's or Outlook's scopes and options.
OAuth2Provider At(const OAuth2StandIn& standin, OAuth2Provider provider) {
  provider.authorization_endpoint = standin.authorization_endpoint();
  provider.token_endpoint = standin.token_endpoint();
  return provider;
}

OAuth2StandIn GmailStandIn() {
  return OAuth2StandIn(kApp.client_id, kApp.client_secret, kApp.redirect_uri, {"https://mail.google.com/"});
}

std::string Problems(OAuth2StandIn& standin) {
  std::string out;
  for (const auto& p : standin.Problems()) out += p + "\n";
  return out;
}

OAuth2ErrorKind KindOf(const std::function<void()>& call, std::string* code = nullptr) {
  try {
    call();
  } catch (const OAuth2Error& e) {
    if (code != nullptr) *code = e.code();
    return e.kind();
  }
  ADD_FAILURE() << "no OAuth2Error";
  return OAuth2ErrorKind::kProtocol;
}

TEST(OAuth2, PkceChallengeIsRfc7636AppendixB) {
  EXPECT_EQ(PkceChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

TEST(OAuth2, GmailAuthorizationUrlAsksForOfflineAccessWithPkceAndState) {
  auto start = StartAuthorization(GmailOAuth2(), kApp, "ann@gmail.com");
  EXPECT_EQ(start.url.rfind("https://accounts.google.com/o/oauth2/v2/auth?", 0), 0u) << start.url;
  auto q = QueryOf(start.url);
  EXPECT_EQ(q["response_type"], "code");
  EXPECT_EQ(q["client_id"], kApp.client_id);
  EXPECT_EQ(q["redirect_uri"], kApp.redirect_uri);
  EXPECT_EQ(q["scope"], "https://mail.google.com/");
  EXPECT_EQ(q["state"], start.state);
  EXPECT_EQ(q["code_challenge"], PkceChallenge(start.code_verifier));
  EXPECT_EQ(q["code_challenge_method"], "S256");
  EXPECT_EQ(q["access_type"], "offline");
  EXPECT_EQ(q["prompt"], "consent");
  EXPECT_EQ(q["login_hint"], "ann@gmail.com");
  EXPECT_EQ(start.code_verifier.size(), 43u);
  EXPECT_EQ(start.state.size(), 43u);
  EXPECT_TRUE(crypto::Base64UrlDecode(start.code_verifier));
  // Nothing but unreserved characters and escapes: the URL cannot be cut or extended by a value.
  EXPECT_EQ(start.url.find_first_of(" \"<>+\r\n"), std::string::npos);
  // Values cannot add parameters or end the URL.
  const std::string hostile = "a@b.com&prompt=none#frag\r\n \"<x>\" é";
  auto tricky = StartAuthorization(GmailOAuth2(), kApp, hostile);
  EXPECT_EQ(QueryOf(tricky.url)["login_hint"], hostile);
  EXPECT_EQ(QueryOf(tricky.url)["prompt"], "consent");
  EXPECT_EQ(tricky.url.find_first_of(" #\"<>\r\n"), std::string::npos);
  auto again = StartAuthorization(GmailOAuth2(), kApp);
  EXPECT_NE(again.state, start.state);
  EXPECT_NE(again.code_verifier, start.code_verifier);
  EXPECT_EQ(QueryOf(again.url).count("login_hint"), 0u);
  EXPECT_EQ(GmailOAuth2().token_endpoint, "https://oauth2.googleapis.com/token");
}

TEST(OAuth2, AStatePrefixNamesTheFlowAndTheRandomPartStays) {
  auto start = StartAuthorization(GmailOAuth2(), kApp, "", "7.42.");
  ASSERT_EQ(start.state.size(), 5u + 43u) << start.state;
  EXPECT_EQ(start.state.rfind("7.42.", 0), 0u);
  EXPECT_TRUE(crypto::Base64UrlDecode(start.state.substr(5)));
  EXPECT_EQ(QueryOf(start.url)["state"], start.state);
  EXPECT_NE(StartAuthorization(GmailOAuth2(), kApp, "", "7.42.").state, start.state);
}

TEST(OAuth2, OutlookAuthorizationUrlAsksForSmtpSendAndOfflineAccess) {
  auto provider = OutlookOAuth2("contoso.onmicrosoft.com");
  EXPECT_EQ(provider.token_endpoint, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
  auto start = StartAuthorization(provider, kApp);
  EXPECT_EQ(start.url.rfind("https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize?", 0), 0u);
  EXPECT_EQ(QueryOf(start.url)["scope"], "https://outlook.office.com/SMTP.Send offline_access");
  EXPECT_EQ(OutlookOAuth2().authorization_endpoint, "https://login.microsoftonline.com/common/oauth2/v2.0/authorize");
  OAuth2Provider broken = provider;
  broken.authorization_endpoint = "javascript:alert(1)";
  EXPECT_THROW(StartAuthorization(broken, kApp), AppError);
}

TEST(OAuth2, TheWholeFlowAgainstTheStandIn) {
  auto standin = GmailStandIn();
  const OAuth2Provider provider = At(standin, GmailOAuth2());
  auto start = StartAuthorization(provider, kApp, "ann@gmail.com");
  const std::string redirect = standin.Authorize(start.url);
  ASSERT_FALSE(redirect.empty()) << Problems(standin);
  auto callback = QueryOf(redirect);
  EXPECT_TRUE(StateMatches(start.state, callback["state"]));

  OAuth2TokenClient client(provider, kApp, LoopbackClient());
  const auto before = std::chrono::system_clock::now();
  TokenSet tokens = client.ExchangeCode(callback["code"], start.code_verifier);
  EXPECT_TRUE(standin.Problems().empty()) << Problems(standin);
  EXPECT_EQ(tokens.access_token.rfind("ya29.at-", 0), 0u);
  EXPECT_EQ(tokens.refresh_token.rfind("1//rt-", 0), 0u);
  EXPECT_EQ(tokens.scope, "https://mail.google.com/");
  EXPECT_EQ(tokens.expires_in, 3599s);
  EXPECT_GE(tokens.expires_at, before + 3599s);
  EXPECT_LE(tokens.expires_at, std::chrono::system_clock::now() + 3599s);
  auto sent = standin.LastTokenRequest();
  EXPECT_EQ(sent["grant_type"], "authorization_code");
  EXPECT_EQ(sent["redirect_uri"], kApp.redirect_uri);
  EXPECT_EQ(sent["client_secret"], kApp.client_secret);  // "&=+/ %" survived the encoding
  EXPECT_EQ(sent["code_verifier"], start.code_verifier);
  auto request = standin.receiver().Requests().back();
  EXPECT_EQ(request.headers["content-type"], "application/x-www-form-urlencoded");

  TokenSet refreshed = client.Refresh(tokens.refresh_token);
  EXPECT_NE(refreshed.access_token, tokens.access_token);
  EXPECT_TRUE(refreshed.refresh_token.empty());  // Google keeps the refresh token: keep the stored one
  sent = standin.LastTokenRequest();
  EXPECT_EQ(sent["grant_type"], "refresh_token");
  EXPECT_EQ(sent["refresh_token"], tokens.refresh_token);
  EXPECT_EQ(sent.count("scope"), 0u);
  EXPECT_TRUE(standin.Problems().empty()) << Problems(standin);
}

TEST(OAuth2, OutlookRefreshSendsTheScopesAndReturnsTheRotatedToken) {
  OAuth2StandIn standin(kApp.client_id, kApp.client_secret, kApp.redirect_uri,
                        {"https://outlook.office.com/SMTP.Send", "offline_access"});
  standin.RotateRefreshTokens(true);
  const OAuth2Provider provider = At(standin, OutlookOAuth2());
  auto start = StartAuthorization(provider, kApp);
  auto callback = QueryOf(standin.Authorize(start.url));
  OAuth2TokenClient client(provider, kApp, LoopbackClient());
  TokenSet first = client.ExchangeCode(callback["code"], start.code_verifier);
  TokenSet second = client.Refresh(first.refresh_token);
  EXPECT_EQ(standin.LastTokenRequest()["scope"], "https://outlook.office.com/SMTP.Send offline_access");
  ASSERT_FALSE(second.refresh_token.empty());
  EXPECT_NE(second.refresh_token, first.refresh_token);
  // The old one is gone: only the rotated token works, so the caller must store it.
  EXPECT_EQ(KindOf([&] { client.Refresh(first.refresh_token); }), OAuth2ErrorKind::kReconnect);
  EXPECT_FALSE(client.Refresh(second.refresh_token).access_token.empty());
}

TEST(OAuth2, AWrongVerifierAReusedCodeOrARevokedGrantMeansReconnect) {
  auto standin = GmailStandIn();
  const OAuth2Provider provider = At(standin, GmailOAuth2());
  OAuth2TokenClient client(provider, kApp, LoopbackClient());
  auto start = StartAuthorization(provider, kApp);
  auto code = QueryOf(standin.Authorize(start.url))["code"];
  std::string error;
  EXPECT_EQ(KindOf([&] { client.ExchangeCode(code, StartAuthorization(provider, kApp).code_verifier); }, &error),
            OAuth2ErrorKind::kReconnect);
  EXPECT_EQ(error, "invalid_grant");
  // The code was spent by the failed attempt, as servers do.
  EXPECT_EQ(KindOf([&] { client.ExchangeCode(code, start.code_verifier); }), OAuth2ErrorKind::kReconnect);
  EXPECT_EQ(KindOf([&] { client.ExchangeCode("", start.code_verifier); }), OAuth2ErrorKind::kReconnect);

  start = StartAuthorization(provider, kApp);
  TokenSet tokens = client.ExchangeCode(QueryOf(standin.Authorize(start.url))["code"], start.code_verifier);
  standin.Revoke(tokens.refresh_token);
  try {
    client.Refresh(tokens.refresh_token);
    ADD_FAILURE() << "a revoked token refreshed";
  } catch (const OAuth2Error& e) {
    EXPECT_EQ(e.kind(), OAuth2ErrorKind::kReconnect);
    EXPECT_EQ(e.code(), "invalid_grant");
    EXPECT_NE(std::string(e.what()).find("Token has been expired or revoked"), std::string::npos) << e.what();
    auto result = ResultOfOAuth2Error(e);
    EXPECT_EQ(result.outcome, DeliveryOutcome::kPermanent);
    EXPECT_NE(result.answer.find("connect the account again"), std::string::npos) << result.answer;
  }
  EXPECT_EQ(KindOf([&] { client.Refresh(""); }), OAuth2ErrorKind::kReconnect);
}

TEST(OAuth2, AWrongClientSecretIsTheApplicationsSettings) {
  auto standin = GmailStandIn();
  const OAuth2Provider provider = At(standin, GmailOAuth2());
  auto start = StartAuthorization(provider, kApp);
  auto code = QueryOf(standin.Authorize(start.url))["code"];
  OAuth2App wrong = kApp;
  wrong.client_secret = "guess";
  std::string error;
  EXPECT_EQ(
      KindOf([&] { OAuth2TokenClient(provider, wrong, LoopbackClient()).ExchangeCode(code, start.code_verifier); },
             &error),
      OAuth2ErrorKind::kClient);
  EXPECT_EQ(error, "invalid_client");
  // A token endpoint the policy refuses (loopback, by default) is the settings too, not a passing failure.
  EXPECT_EQ(KindOf([&] {
              OAuth2TokenClient(provider, kApp, net::HttpClient({"t", net::TargetPolicy()})).Refresh("x");
            }),
            OAuth2ErrorKind::kClient);
}

TEST(OAuth2, ServerErrorsThrottlingAndTimeoutsAreTemporary) {
  auto standin = GmailStandIn();
  const OAuth2Provider provider = At(standin, GmailOAuth2());
  auto start = StartAuthorization(provider, kApp);
  OAuth2TokenClient client(provider, kApp, LoopbackClient());
  TokenSet tokens = client.ExchangeCode(QueryOf(standin.Authorize(start.url))["code"], start.code_verifier);
  standin.receiver().Script({{503, "<html>unavailable</html>"},
                             {429, R"({"error":"rate_limit_exceeded"})"},
                             {400, R"({"error":"temporarily_unavailable"})"},
                             {200, "{}", {}, 2000ms}});
  for (int i = 0; i < 3; ++i) {
    try {
      client.Refresh(tokens.refresh_token);
      ADD_FAILURE();
    } catch (const OAuth2Error& e) {
      EXPECT_EQ(e.kind(), OAuth2ErrorKind::kTemporary) << e.what();
      EXPECT_EQ(ResultOfOAuth2Error(e).outcome, DeliveryOutcome::kTemporary);
    }
  }
  std::string code;
  OAuth2TokenClient impatient(provider, kApp, LoopbackClient(), 300ms);
  EXPECT_EQ(KindOf([&] { impatient.Refresh(tokens.refresh_token); }, &code), OAuth2ErrorKind::kTemporary);
  EXPECT_EQ(code, "timeout");
  // A token endpoint that is down.
  std::string closed;
  {
    net::testing::HttpReceiver gone;
    closed = "http://127.0.0.1:" + std::to_string(gone.port()) + "/token";
  }
  OAuth2Provider down = provider;
  down.token_endpoint = closed;
  EXPECT_EQ(KindOf([&] { OAuth2TokenClient(down, kApp, LoopbackClient()).Refresh("r"); }), OAuth2ErrorKind::kTemporary);
}

TEST(OAuth2, MalformedOrOversizedTokenAnswersAreProtocolErrorsNeverCrashes) {
  auto standin = GmailStandIn();
  const OAuth2Provider provider = At(standin, GmailOAuth2());
  OAuth2TokenClient client(provider, kApp, LoopbackClient());
  standin.receiver().Script({
      {200, "access_token=secret-token-xyz&expires_in=3600"},
      {200, "not json"},
      {200, "[1,2,3]"},
      {200, R"({"token_type":"Bearer","expires_in":3600})"},
      {200, R"({"access_token":"","token_type":"Bearer"})"},
      {200, R"({"access_token":"abc\r\nX-Evil: 1","token_type":"Bearer"})"},
      {200, R"({"access_token":"has space","token_type":"Bearer"})"},
      {200, R"({"access_token":42})"},
      {200, R"({"access_token":"ok","token_type":"mac"})"},
      {200, R"({"access_token":"ok","refresh_token":"bad\u0001token"})"},
      {200, std::string(R"({"access_token":")") + std::string(100 * 1024, 'a') + "\"}"},
      {400, std::string(200 * 1024, '\xff')},
  });
  for (int i = 0; i < 11; ++i) {
    try {
      client.Refresh("1//rt");
      ADD_FAILURE() << i;
    } catch (const OAuth2Error& e) {
      EXPECT_EQ(e.kind(), OAuth2ErrorKind::kProtocol) << i;
      EXPECT_EQ(e.code(), "malformed_response") << i;
      // Even a broken token answer stays out of the message (it ends up in logs and delivery answers).
      EXPECT_EQ(std::string(e.what()).find("secret-token-xyz"), std::string::npos) << e.what();
      EXPECT_EQ(std::string(e.what()).find("aaaa"), std::string::npos) << i;
    }
  }
  try {
    client.Refresh("1//rt");
    ADD_FAILURE();
  } catch (const OAuth2Error& e) {
    EXPECT_EQ(e.kind(), OAuth2ErrorKind::kClient);
    EXPECT_EQ(e.code(), "http_400");
    EXPECT_LE(std::string(e.what()).size(), kMaxAnswer + 3);
  }
}

TEST(OAuth2, ExpiresInIsReadLeniently) {
  auto standin = GmailStandIn();
  OAuth2TokenClient client(At(standin, GmailOAuth2()), kApp, LoopbackClient());
  standin.receiver().Script({{200, R"({"access_token":"a","expires_in":"3600"})"},
                             {200, R"({"access_token":"a"})"},
                             {200, R"({"access_token":"a","expires_in":-5})"},
                             {200, R"({"access_token":"a","expires_in":1e300})"},
                             {200, R"({"access_token":"a","expires_in":"99999999999999999999"})"},
                             {200, R"({"access_token":"a","expires_in":59.9,"token_type":"bearer"})"}});
  EXPECT_EQ(client.Refresh("r").expires_in, 3600s);
  EXPECT_EQ(client.Refresh("r").expires_in, 600s);  // absent: assumed short
  EXPECT_EQ(client.Refresh("r").expires_in, 0s);
  EXPECT_EQ(client.Refresh("r").expires_in, std::chrono::seconds(366 * 24 * 3600));
  EXPECT_EQ(client.Refresh("r").expires_in, 600s);  // not a number it can read
  EXPECT_EQ(client.Refresh("r").expires_in, 59s);
}

TEST(OAuth2, XOAuth2InitialResponseIsGooglesDocumentedExample) {
  EXPECT_EQ(XOAuth2InitialResponse("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg"),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZ"
            "Mjl0Q2cBAQ==");
  EXPECT_THROW(XOAuth2InitialResponse("a@example.com\x01"
                                      "auth=Bearer x",
                                      "t"),
               AppError);
  EXPECT_THROW(XOAuth2InitialResponse("a@example.com", "t\r\n"), AppError);
  EXPECT_THROW(XOAuth2InitialResponse("", "t"), AppError);
}

TEST(OAuth2, FormEncodingEscapesEverythingButUnreservedCharacters) {
  EXPECT_EQ(FormEncode({{"a b", "x&y=z+%/é"}, {"k", ""}}), "a%20b=x%26y%3Dz%2B%25%2F%C3%A9&k=");
  EXPECT_EQ(web::ParseFormFields(FormEncode({{"v", "\r\n\"<>"}}))["v"], "\r\n\"<>");
}

TEST(OAuth2, StateMatchesOnlyTheSameNonEmptyState) {
  EXPECT_TRUE(StateMatches("abc", "abc"));
  EXPECT_FALSE(StateMatches("abc", "abd"));
  EXPECT_FALSE(StateMatches("abc", "abcd"));
  EXPECT_FALSE(StateMatches("", ""));
}

TEST(AccessTokenCache, KeepsATokenUntilSixtySecondsBeforeItExpires) {
  AccessTokenCache cache;
  const auto t0 = std::chrono::system_clock::time_point(1700000000s);
  int refreshes = 0;
  auto refresh = [&] {
    ++refreshes;
    TokenSet tokens;
    tokens.access_token = "token-" + std::to_string(refreshes);
    tokens.expires_in = 3600s;
    tokens.expires_at = t0 + 3600s;
    return tokens;
  };
  EXPECT_EQ(cache.Get("account-1", refresh, t0), "token-1");
  EXPECT_EQ(cache.Get("account-1", refresh, t0 + 3539s), "token-1");
  EXPECT_EQ(*cache.Find("account-1", t0 + 3539s), "token-1");
  EXPECT_FALSE(cache.Find("account-1", t0 + 3540s));
  EXPECT_EQ(cache.Get("account-1", refresh, t0 + 3540s), "token-2");
  EXPECT_EQ(refreshes, 2);
  EXPECT_EQ(cache.Get("account-2", refresh, t0), "token-3");  // per key
  cache.Forget("account-1");
  EXPECT_EQ(cache.Get("account-1", refresh, t0), "token-4");
  // A failed refresh caches nothing and passes the error on.
  cache.Forget("account-1");
  EXPECT_THROW(cache.Get(
                   "account-1",
                   []() -> TokenSet { throw OAuth2Error(OAuth2ErrorKind::kReconnect, "invalid_grant", "gone"); }, t0),
               OAuth2Error);
  EXPECT_FALSE(cache.Find("account-1", t0));
}

TEST(AccessTokenCache, ParallelCallersShareOneRefresh) {
  AccessTokenCache cache;
  std::atomic<int> refreshes{0};
  auto refresh = [&] {
    ++refreshes;
    std::this_thread::sleep_for(50ms);
    TokenSet tokens;
    tokens.access_token = "shared";
    tokens.expires_at = std::chrono::system_clock::now() + 3600s;
    return tokens;
  };
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (std::size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] { got[i] = cache.Get("account", refresh); });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(refreshes.load(), 1);
  for (const auto& token : got) EXPECT_EQ(token, "shared");
}

// The stand-in refuses authorization URLs that break the rules (else the flow test would prove little).
TEST(OAuth2StandIn, RefusesAuthorizationUrlsWithoutPkceStateOrTheRegisteredRedirect) {
  auto standin = GmailStandIn();
  const OAuth2Provider provider = At(standin, GmailOAuth2());
  auto good = StartAuthorization(provider, kApp);
  auto without = [&](const std::string& name) {
    std::string url = good.url;
    auto at = url.find("&" + name + "=");
    auto end = url.find('&', at + 1);
    return url.erase(at, end == std::string::npos ? std::string::npos : end - at);
  };
  EXPECT_FALSE(standin.Authorize(good.url).empty());
  for (const char* name : {"state", "code_challenge", "code_challenge_method", "redirect_uri", "scope"}) {
    EXPECT_EQ(standin.Authorize(without(name)), "") << name;
  }
  OAuth2App other = kApp;
  other.redirect_uri = "https://evil.example/callback";
  EXPECT_EQ(standin.Authorize(StartAuthorization(provider, other).url), "");
  EXPECT_EQ(standin.Problems().size(), 6u) << Problems(standin);
}

}  // namespace
}  // namespace poste::mail
