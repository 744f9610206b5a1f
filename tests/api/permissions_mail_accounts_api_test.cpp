// The permission table of mail accounts and single messages (issue 5), with the real authentication, on
// SQLite and PostgreSQL (harness: permission_table.hpp). Accounts are site configuration holding
// credentials: the site's editors (and their keys) list and read them, the admins create, change, delete
// and test them (404 for a site out of reach before 403). Messages: the site's editors and the admins send,
// list, read and cancel them.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "permission_table.hpp"

namespace poste::testing {
namespace {

class PermissionsMailAccountsApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override { config.mail.smtp_allow_targets = {"127.0.0.1"}; }

  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    account_a_ = AddAccount("alpha");
    message_a_ = AddMessage("alpha", "");
  }

  // An outbox account: its test needs no server.
  std::int64_t AddAccount(const std::string& site) {
    auto r = Call("POST", "/api/v1/sites/" + site + "/mail/accounts", callers_[kAdmin],
                  R"({"name":"Outbox","type":"outbox","from":{"email":"news@alpha.example"}})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? nlohmann::json::parse(r.body)["id"].get<std::int64_t>() : 0;
  }

  std::int64_t AddMessage(const std::string& site, const std::string& send_at) {
    nlohmann::json body = {{"to", {"ada@example.com"}}, {"subject", "Hello"}, {"text", "Hi"}};
    if (!send_at.empty()) body["send_at"] = send_at;
    auto r = Call("POST", "/api/v1/sites/" + site + "/mail/messages", callers_[kAdmin], body.dump());
    EXPECT_EQ(r.status, 202) << r.body;
    return r.status == 202 ? nlohmann::json::parse(r.body)["id"].get<std::int64_t>() : 0;
  }

  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{account_a}", std::to_string(account_a_));
    Replace(s, "{message_a}", std::to_string(message_a_));
    if (s.find("{fresh_account_a}") != std::string::npos) {
      Replace(s, "{fresh_account_a}", std::to_string(AddAccount("alpha")));
    }
    if (s.find("{fresh_account_b}") != std::string::npos) {
      Replace(s, "{fresh_account_b}", std::to_string(AddAccount("beta")));
    }
    if (s.find("{scheduled_a}") != std::string::npos) {
      Replace(s, "{scheduled_a}", std::to_string(AddMessage("alpha", "2099-01-01T09:00:00Z")));
    }
    if (s.find("{scheduled_b}") != std::string::npos) {
      Replace(s, "{scheduled_b}", std::to_string(AddMessage("beta", "2099-01-01T09:00:00Z")));
    }
    return s;
  }

  std::int64_t account_a_ = 0, message_a_ = 0;
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha/mail", b = "/api/v1/sites/beta/mail";
  const std::string account = R"({"name":"Relay {n}","type":"smtp","from":{"email":"news@alpha.example"},)"
                              R"("settings":{"host":"127.0.0.1","port":2525,"tls":"none"}})";
  const std::string message = R"({"to":["ada@example.com"],"subject":"Hello {n}","text":"Hi"})";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      // Accounts: editors read, admins manage.
      {"GET", a + "/accounts", "",                                               {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/accounts", "",                                               {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"POST", a + "/accounts", account,                                         {401, 403, 404, 201, B,   B,   B,   B,   B,    403, 404}},
      {"POST", b + "/accounts", account,                                         {401, 404, 403, 201, B,   B,   B,   B,   B,    404, 201}},
      {"POST", a + "/accounts", R"({"name":"x","type":"smtp"})",                 {401, 403, 404, 422, B,   B,   B,   B,   B,    403, 404}},
      {"GET", a + "/accounts/{account_a}", "",                                   {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/accounts/{account_a}", "",                                   {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/accounts/999999", "",                                        {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a + "/accounts/{account_a}", R"({"name":"Outbox {n}"})",         {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"PATCH", b + "/accounts/{fresh_account_b}", R"({"name":"B {n}"})",        {401, 404, 403, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PATCH", a + "/accounts/{account_a}", R"({"name":7})",                    {401, 403, 404, 422, B,   B,   B,   B,   B,    403, 404}},
      {"DELETE", a + "/accounts/{fresh_account_a}", "",                          {401, 403, 404, 204, B,   B,   B,   B,   B,    403, 404}},
      {"DELETE", b + "/accounts/{fresh_account_b}", "",                          {401, 404, 403, 204, B,   B,   B,   B,   B,    404, 204}},
      {"DELETE", a + "/accounts/999999", "",                                     {401, 403, 404, 404, B,   B,   B,   B,   B,    403, 404}},
      {"POST", a + "/accounts/{account_a}/test", "",                             {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"POST", b + "/accounts/{account_a}/test", "",                             {401, 404, 403, 404, B,   B,   B,   B,   B,    404, 404}},
      // Messages: the site's editors and the admins.
      {"POST", a + "/messages", message,                                         {401, 202, 404, 202, B,   B,   B,   B,   B,    202, 404}},
      {"POST", b + "/messages", message,                                         {401, 404, 202, 202, B,   B,   B,   B,   B,    404, 202}},
      {"POST", a + "/messages", R"({"to":["x"],"subject":"a\nb","text":"t"})",   {401, 422, 404, 422, B,   B,   B,   B,   B,    422, 404}},
      {"GET", a + "/messages", "",                                               {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/messages?limit=5", "",                                       {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", a + "/messages?limit=0", "",                                       {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"GET", a + "/messages/{message_a}", "",                                   {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/messages/{message_a}", "",                                   {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"POST", a + "/messages/{scheduled_a}/cancel", "",                         {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"POST", b + "/messages/{scheduled_b}/cancel", "",                         {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"POST", b + "/messages/{message_a}/cancel", "",                           {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
  };
  // clang-format on
}

TEST_P(PermissionsMailAccountsApi, EveryMailAccountAndMessageRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 250);
}

TEST_P(PermissionsMailAccountsApi, EveryDocumentedMailAccountAndMessageRouteHasRows) {
  // .../accounts/{id}/oauth/... has its own table (permissions_mail_oauth_api_test.cpp).
  ExpectEveryDocumentedRouteHasRows(
      Table(), {"/api/v1/sites/{site}/mail/accounts$", "/api/v1/sites/{site}/mail/accounts/{id}$",
                "/api/v1/sites/{site}/mail/accounts/{id}/test$", "/api/v1/sites/{site}/mail/messages"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsMailAccountsApi);

}  // namespace
}  // namespace poste::testing
