// The permission table of the OAuth2 connection of Gmail / Outlook accounts (issue 5), with the real
// authentication, on SQLite and PostgreSQL (harness: permission_table.hpp). Starting is account
// management: the site's admins (404 for a site out of reach before 403). The callback takes no API
// credentials at all (the browser comes back from the provider; the state is the credential): every kind of
// caller, even one with a bad token, gets the same answer, decided by the state alone.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lib/mail/testing/oauth2_standin.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

const std::string kRedirect = "https://poste.example/api/v1/mail/oauth/callback";

class PermissionsMailOAuthApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override {
    config.mail.oauth_redirect_url = kRedirect;
    config.mail.oauth_allow_targets = {"127.0.0.1"};
  }

  void SetUp() override {
    standin_ = std::make_unique<mail::testing::OAuth2StandIn>("client-1.apps", "client-secret-1", kRedirect,
                                                              std::vector<std::string>{"https://mail.google.com/"});
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    gmail_a_ = AddAccount("alpha", true);
    gmail_b_ = AddAccount("beta", true);
    outbox_a_ = AddAccount("alpha", false);
  }

  std::int64_t AddAccount(const std::string& site, bool gmail) {
    nlohmann::json body = {{"name", "Account"}, {"type", "outbox"}, {"from", {{"email", "team@gmail.example"}}}};
    if (gmail) {
      body["type"] = "gmail";
      body["settings"] = {{"username", "team@gmail.example"},
                          {"client_id", "client-1.apps"},
                          {"client_secret", "client-secret-1"},
                          {"authorization_url", standin_->authorization_endpoint()},
                          {"token_url", standin_->token_endpoint()}};
    }
    auto r = Call("POST", "/api/v1/sites/" + site + "/mail/accounts", callers_[kAdmin], body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? nlohmann::json::parse(r.body)["id"].get<std::int64_t>() : 0;
  }

  // A flow started by the admin and consented to: the callback's query string.
  std::string Consent() {
    auto r = Call("POST", "/api/v1/sites/alpha/mail/accounts/" + std::to_string(gmail_a_) + "/oauth/start",
                  callers_[kAdmin]);
    EXPECT_EQ(r.status, 200) << r.body;
    if (r.status != 200) return "";
    const std::string redirect = standin_->Authorize(nlohmann::json::parse(r.body)["authorization_url"]);
    return redirect.substr(redirect.find('?') + 1);
  }

  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{gmail_a}", std::to_string(gmail_a_));
    Replace(s, "{gmail_b}", std::to_string(gmail_b_));
    Replace(s, "{outbox_a}", std::to_string(outbox_a_));
    if (s.find("{consented}") != std::string::npos) Replace(s, "{consented}", Consent());
    return s;
  }

  std::unique_ptr<mail::testing::OAuth2StandIn> standin_;
  std::int64_t gmail_a_ = 0, gmail_b_ = 0, outbox_a_ = 0;
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha/mail/accounts/", b = "/api/v1/sites/beta/mail/accounts/";
  const std::string callback = "/api/v1/mail/oauth/callback";
  const std::string forged = "?code=x&state=1.1." + std::string(43, 'a');
  // clang-format off
  //                                                                anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      {"POST", a + "{gmail_a}/oauth/start", "",                      {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"POST", b + "{gmail_b}/oauth/start", "",                      {401, 404, 403, 200, B,   B,   B,   B,   B,    404, 200}},
      {"POST", b + "{gmail_a}/oauth/start", "",                      {401, 404, 403, 404, B,   B,   B,   B,   B,    404, 404}},
      {"POST", a + "{outbox_a}/oauth/start", "",                     {401, 403, 404, 409, B,   B,   B,   B,   B,    403, 404}},
      {"POST", a + "999999/oauth/start", "",                         {401, 403, 404, 404, B,   B,   B,   B,   B,    403, 404}},
      // The callback: credentials change nothing, the state decides.
      {"GET", callback + "?{consented}", "",                         {200, 200, 200, 200, 200, 200, 200, 200, 200,  200, 200}},
      {"GET", callback + forged, "",                                 {400, 400, 400, 400, 400, 400, 400, 400, 400,  400, 400}},
      {"GET", callback + "?error=access_denied", "",                 {400, 400, 400, 400, 400, 400, 400, 400, 400,  400, 400}},
  };
  // clang-format on
}

TEST_P(PermissionsMailOAuthApi, EveryMailOAuthRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_EQ(cells_, 88);
}

TEST_P(PermissionsMailOAuthApi, EveryDocumentedMailOAuthRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(Table(), {"/api/v1/sites/{site}/mail/accounts/{id}/oauth/", "/api/v1/mail/oauth/"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsMailOAuthApi);

}  // namespace
}  // namespace poste::testing
