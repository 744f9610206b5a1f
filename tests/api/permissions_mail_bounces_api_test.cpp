// The permission table of bounces (issue 5), with the real authentication, on SQLite and PostgreSQL (harness:
// permission_table.hpp). A site's editors list its bounces; only admins choose its bounce mailbox and manage
// its providers' event endpoints; another site's objects are 404. The providers' endpoints take no
// credentials: every caller gets the same answer, decided by the token and the signature alone.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdio>
#include <string>
#include <vector>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/crypto/random.hpp"
#include "lib/mail/sns.hpp"
#include "lib/mail/testing/event_signers.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

constexpr const char* kTopic = "arn:aws:sns:us-east-1:123456789012:ses-bounces";

class PermissionsMailBouncesApi : public PermissionTable {
 protected:
  PermissionsMailBouncesApi() : stand_in_(signer_.certificate_pem()) {}

  void Configure(app::Config& config) override {
    config.mail.sns_certificate_hosts = {stand_in_.host()};
    config.inbox.allow_private_hosts = {"127.0.0.1"};
  }

  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    inbox_a_ = AddInbox("alpha", site_a_);
    inbox_b_ = AddInbox("beta", site_b_);
    const auto ses = AddAccount(site_a_, "ses");
    auto created = Call("POST", "/api/v1/sites/alpha/mail/bounces/endpoints", callers_[kAdmin],
                        nlohmann::json{{"account_id", ses}, {"topic_arn", kTopic}}.dump());
    ASSERT_EQ(created.status, 201) << created.body;
    const auto json = nlohmann::json::parse(created.body);
    ses_token_ = json["token"];
    ses_endpoint_ = json["id"];
  }

  std::int64_t AddInbox(const std::string& site, std::int64_t site_id) {
    auto r = Call("POST", "/api/v1/inbox/accounts", callers_[kAdmin],
                  nlohmann::json{{"name", "Bounces " + site},
                                 {"host", "127.0.0.1"},
                                 {"port", 143},
                                 {"tls", "none"},
                                 {"username", "u"},
                                 {"password", "p"},
                                 {"site_id", site_id}}
                      .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return nlohmann::json::parse(r.body, nullptr, false).value("id", 0);
  }

  std::int64_t AddAccount(std::int64_t site, const std::string& type) {
    return db().WriteValue([&](soci::session& s) {
      const long long site_id = site;
      long long id = 0;
      const std::string name = type + " " + std::to_string(++counter_);
      s << "INSERT INTO mail_accounts (site_id, name, type, from_email, created_at, updated_at)"
           " VALUES (:s, :n, :t, 'news@example.com', 1, 1) RETURNING id",
          soci::use(site_id), soci::use(name), soci::use(type), soci::into(id);
      return static_cast<std::int64_t>(id);
    });
  }

  // An endpoint of a fresh SendGrid account of site A, made directly in the database.
  std::int64_t AddEndpoint() {
    const auto account = AddAccount(site_a_, "sendgrid");
    return db().WriteValue([&](soci::session& s) {
      const long long site_id = site_a_, account_id = account;
      const std::string hash = crypto::HexEncode(crypto::Sha256(crypto::RandomToken()));
      const std::string key = sendgrid_.PublicKeyBase64();
      long long id = 0;
      s << "INSERT INTO mail_provider_endpoints (site_id, account_id, provider, token_hash, verification_key,"
           " created_at, updated_at) VALUES (:s, :a, 'sendgrid', :h, :k, 1, 1) RETURNING id",
          soci::use(site_id), soci::use(account_id), soci::use(hash), soci::use(key), soci::into(id);
      return static_cast<std::int64_t>(id);
    });
  }

  std::string SignedBounce() {
    mail::SnsMessage m;
    m.type = "Notification";
    m.message_id = "perm-" + std::to_string(++counter_);
    m.topic_arn = kTopic;
    m.message = R"({"notificationType":"Bounce","bounce":{"bounceType":"Transient","bouncedRecipients":)"
                R"([{"emailAddress":"full@example.com"}]},"mail":{"messageId":"x"}})";
    m.timestamp = "2023-11-14T22:13:20.000Z";
    m.signature_version = "2";
    m.signing_cert_url = stand_in_.cert_url();
    signer_.Sign(m);
    return mail::testing::SnsSigner::Body(m);
  }

  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{inbox_a}", std::to_string(inbox_a_));
    Replace(s, "{inbox_b}", std::to_string(inbox_b_));
    Replace(s, "{ses_token}", ses_token_);
    Replace(s, "{ses_endpoint}", std::to_string(ses_endpoint_));
    Replace(s, "{sg_key}", sendgrid_.PublicKeyBase64());
    if (s.find("{fresh_sendgrid_a}") != std::string::npos) {
      Replace(s, "{fresh_sendgrid_a}", std::to_string(AddAccount(site_a_, "sendgrid")));
    }
    if (s.find("{fresh_smtp_a}") != std::string::npos) {
      Replace(s, "{fresh_smtp_a}", std::to_string(AddAccount(site_a_, "smtp")));
    }
    if (s.find("{fresh_endpoint_a}") != std::string::npos) {
      Replace(s, "{fresh_endpoint_a}", std::to_string(AddEndpoint()));
    }
    if (s.find("{sns_bounce}") != std::string::npos) Replace(s, "{sns_bounce}", SignedBounce());
    return s;
  }

  mail::testing::SnsSigner signer_;
  mail::testing::SnsStandIn stand_in_;
  mail::testing::SendGridSigner sendgrid_;
  std::int64_t inbox_a_ = 0, inbox_b_ = 0, ses_endpoint_ = 0;
  std::string ses_token_;
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha/mail/bounces", b = "/api/v1/sites/beta/mail/bounces";
  const std::string events = "/api/v1/mail/events";
  const std::string sendgrid_endpoint = R"({"account_id":{fresh_sendgrid_a},"verification_key":"{sg_key}"})";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      // The list: the site's editors and the admins.
      {"GET", a, "",                                                             {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "?kind=hard&limit=5", "",                                      {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", a + "?kind=nope", "",                                              {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"GET", a + "?limit=0", "",                                                {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      // The bounce mailbox: admins only.
      {"GET", a + "/mailbox", "",                                                {401, 403, 404, 404, B,   B,   B,   B,   B,    403, 404}},
      {"PUT", a + "/mailbox", R"({"inbox_account_id":{inbox_a}})",               {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"GET", a + "/mailbox", "",                                                {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"PUT", a + "/mailbox", R"({"inbox_account_id":{inbox_b}})",               {401, 403, 404, 422, B,   B,   B,   B,   B,    403, 404}},
      {"PUT", b + "/mailbox", R"({"inbox_account_id":{inbox_b}})",               {401, 404, 403, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PUT", a + "/mailbox", R"({"inbox_account_id":"1; DROP TABLE x"})",       {401, 403, 404, 422, B,   B,   B,   B,   B,    403, 404}},
      {"DELETE", a + "/mailbox", "",                                             {401, 403, 404, 204, B,   B,   B,   B,   B,    403, 404}},
      {"DELETE", a + "/mailbox", "",                                             {401, 403, 404, 404, B,   B,   B,   B,   B,    403, 404}},
      // Event endpoints: admins only.
      {"GET", a + "/endpoints", "",                                              {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"GET", b + "/endpoints", "",                                              {401, 404, 403, 200, B,   B,   B,   B,   B,    404, 200}},
      {"POST", a + "/endpoints", sendgrid_endpoint,                              {401, 403, 404, 201, B,   B,   B,   B,   B,    403, 404}},
      // Site A's account through site B: not one of B's accounts.
      {"POST", b + "/endpoints", sendgrid_endpoint,                              {401, 404, 403, 422, B,   B,   B,   B,   B,    404, 422}},
      {"POST", a + "/endpoints", R"({"account_id":{fresh_smtp_a}})",             {401, 403, 404, 422, B,   B,   B,   B,   B,    403, 404}},
      {"PATCH", a + "/endpoints/{ses_endpoint}", R"({"topic_arn":"arn:aws:sns:us-east-1:123456789012:ses-bounces"})",
                                                                                 {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"PATCH", b + "/endpoints/{ses_endpoint}", R"({"topic_arn":"arn:aws:sns:us-east-1:123456789012:x"})",
                                                                                 {401, 404, 403, 404, B,   B,   B,   B,   B,    404, 404}},
      {"POST", a + "/endpoints/{fresh_endpoint_a}/rotate", "",                   {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"POST", b + "/endpoints/{fresh_endpoint_a}/rotate", "",                   {401, 404, 403, 404, B,   B,   B,   B,   B,    404, 404}},
      {"DELETE", a + "/endpoints/{fresh_endpoint_a}", "",                        {401, 403, 404, 204, B,   B,   B,   B,   B,    403, 404}},
      {"DELETE", a + "/endpoints/999999", "",                                    {401, 403, 404, 404, B,   B,   B,   B,   B,    403, 404}},
      // The providers' endpoints: credentials change nothing.
      {"POST", events + "/sendgrid/unknown-token", "[]",                         {404, 404, 404, 404, 404, 404, 404, 404, 404,  404, 404}},
      {"POST", events + "/sendgrid/{ses_token}", "[]",                           {404, 404, 404, 404, 404, 404, 404, 404, 404,  404, 404}},
      {"POST", events + "/ses/unknown-token", "{}",                              {404, 404, 404, 404, 404, 404, 404, 404, 404,  404, 404}},
      {"POST", events + "/ses/{ses_token}", "not json",                          {400, 400, 400, 400, 400, 400, 400, 400, 400,  400, 400}},
      {"POST", events + "/ses/{ses_token}", "{sns_bounce}",                      {200, 200, 200, 200, 200, 200, 200, 200, 200,  200, 200}},
  };
  // clang-format on
}

TEST_P(PermissionsMailBouncesApi, EveryBounceRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 250);
}

TEST_P(PermissionsMailBouncesApi, EveryDocumentedBounceRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(Table(), {"/api/v1/sites/{site}/mail/bounces", "/api/v1/mail/events/"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsMailBouncesApi);

}  // namespace
}  // namespace poste::testing
