// Bounces through the whole app (issue 5), on SQLite and PostgreSQL: DSNs delivered with dovecot-lda into a
// site's bounce mailbox on the Dovecot of scripts/test-services and synced; SendGrid events signed with a key
// made by the test; SES notifications through SNS signed with a certificate made by the test and served by a
// local stand-in. Each ends as bounce rows, suppressions and email.bounced webhook jobs; hostile input ends
// as problems.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "lib/mail/sns.hpp"
#include "lib/mail/testing/event_signers.hpp"
#include "modules/inbox/inbox_test_support.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

using inbox::testing::DovecotFolder;
using inbox::testing::Env;

constexpr const char* kTopic = "arn:aws:sns:us-east-1:123456789012:ses-bounces";

std::string Dsn(const std::string& dsn_id, const std::string& recipient, const std::string& original_id) {
  return "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
         "To: bounces@alpha.example\n"
         "Subject: Undelivered Mail Returned to Sender\n"
         "Message-ID: <" +
         dsn_id +
         ">\n"
         "MIME-Version: 1.0\n"
         "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n"
         "\n"
         "--b1\n"
         "Content-Type: text/plain\n"
         "\n"
         "Your message could not be delivered.\n"
         "--b1\n"
         "Content-Type: message/delivery-status\n"
         "\n"
         "Reporting-MTA: dns; mx.example.org\n"
         "\n"
         "Final-Recipient: rfc822; " +
         recipient +
         "\n"
         "Action: failed\n"
         "Status: 5.1.1\n"
         "Diagnostic-Code: smtp; 550 5.1.1 <" +
         recipient +
         ">: user unknown\n"
         "\n"
         "--b1\n"
         "Content-Type: text/rfc822-headers\n"
         "\n"
         "Message-ID: <" +
         original_id +
         ">\n"
         "Subject: Newsletter\n"
         "\n"
         "--b1--\n";
}

class MailBouncesApi : public PermissionTable {
 protected:
  MailBouncesApi() : stand_in_(sns_.certificate_pem()) {}

  void Configure(app::Config& config) override {
    config.inbox.allow_private_hosts = {"127.0.0.1"};
    config.mail.sns_certificate_hosts = {stand_in_.host()};
  }

  nlohmann::json Json(const web::Response& r) { return nlohmann::json::parse(r.body, nullptr, false); }

  web::Response Admin(const std::string& method, const std::string& target, const std::string& body = "") {
    return Call(method, target, callers_[kAdmin], body);
  }

  std::int64_t AddMessage(std::int64_t site, const std::string& header_id, const std::string& provider_id) {
    return db().WriteValue([&](soci::session& s) {
      const long long site_id = site;
      long long id = 0;
      s << "INSERT INTO mail_messages (site_id, request, message_id, provider_message_id, created_at, updated_at)"
           " VALUES (:s, '{}', :m, :p, 1, 1) RETURNING id",
          soci::use(site_id), soci::use(header_id), soci::use(provider_id), soci::into(id);
      return static_cast<std::int64_t>(id);
    });
  }

  std::int64_t CreateAccount(const std::string& type) {
    nlohmann::json settings =
        type == "sendgrid"
            ? nlohmann::json{{"api_key", "SG.key"}}
            : nlohmann::json{{"region", "us-east-1"}, {"access_key_id", "AKIA"}, {"secret_access_key", "secret"}};
    auto r = Admin("POST", "/api/v1/sites/alpha/mail/accounts",
                   nlohmann::json{{"name", type + " account"},
                                  {"type", type},
                                  {"from", {{"email", "news@alpha.example"}}},
                                  {"settings", settings}}
                       .dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r).value("id", 0);
  }

  // The email.bounced events queued: their data.
  std::vector<nlohmann::json> BouncedEvents() {
    return db().ReadValue([&](soci::session& s) {
      std::vector<nlohmann::json> out;
      soci::rowset<std::string> rows =
          (s.prepare << "SELECT payload FROM jobs WHERE kind = 'webhook.event' ORDER BY id");
      for (const auto& p : rows) {
        auto j = nlohmann::json::parse(p);
        if (j.value("type", "") == "email.bounced") out.push_back(j["data"]);
      }
      return out;
    });
  }

  web::Response PostSendGrid(const std::string& token, const std::string& body, const std::string& timestamp,
                             const std::string& signature) {
    Headers headers = {{"Content-Type", "application/json"}};
    if (!timestamp.empty()) headers.emplace_back("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
    if (!signature.empty()) headers.emplace_back("X-Twilio-Email-Event-Webhook-Signature", signature);
    return Call("POST", "/api/v1/mail/events/sendgrid/" + token, headers, body);
  }

  web::Response PostSns(const std::string& token, const mail::SnsMessage& m) {
    return Call("POST", "/api/v1/mail/events/ses/" + token, {{"Content-Type", "text/plain; charset=UTF-8"}},
                mail::testing::SnsSigner::Body(m));
  }

  static std::string Now() { return std::to_string(std::time(nullptr)); }

  mail::testing::SnsSigner sns_;
  mail::testing::SnsStandIn stand_in_;
  mail::testing::SendGridSigner sendgrid_;
};

TEST_P(MailBouncesApi, DsnsDeliveredToTheBounceMailboxAreRecordedOnce) {
  ASSERT_FALSE(HasFailure());
  DovecotFolder folder("bounce-api");
  auto created = Admin("POST", "/api/v1/inbox/accounts",
                       nlohmann::json{{"name", "Bounces"},
                                      {"host", Env("POSTE_TEST_IMAP_HOST")},
                                      {"port", std::atoi(Env("POSTE_TEST_IMAP_PORT").c_str())},
                                      {"tls", "none"},
                                      {"username", Env("POSTE_TEST_IMAP_USER")},
                                      {"password", Env("POSTE_TEST_IMAP_PASSWORD")},
                                      {"mailbox", folder.name()},
                                      {"site_id", site_a_}}
                           .dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string inbox = std::to_string(Json(created)["id"].get<std::int64_t>());
  auto put = Admin("PUT", "/api/v1/sites/alpha/mail/bounces/mailbox", R"({"inbox_account_id":)" + inbox + "}");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Json(put)["inbox_account_id"], std::stoll(inbox));

  const auto message = AddMessage(site_a_, "<sent-1@alpha.example>", "");
  AddMessage(site_b_, "<sent-b@beta.example>", "");
  folder.Deliver(Dsn("dsn-1@mx.example.org", "gone@example.org", "sent-1@alpha.example"));
  // Another site's Message-ID: recorded, but never matched to site B's message.
  folder.Deliver(Dsn("dsn-2@mx.example.org", "other@example.org", "sent-b@beta.example"));
  auto sync = Admin("POST", "/api/v1/inbox/accounts/" + inbox + "/sync");
  ASSERT_EQ(sync.status, 200) << sync.body;
  ASSERT_EQ(Json(sync)["fetched"], 2) << sync.body;

  auto list = Json(Call("GET", "/api/v1/sites/alpha/mail/bounces", callers_[kEditorA]));
  ASSERT_EQ(list["items"].size(), 2u) << list;
  const auto& other = list["items"][0];
  const auto& gone = list["items"][1];
  EXPECT_EQ(gone["email"], "gone@example.org");
  EXPECT_EQ(gone["kind"], "hard");
  EXPECT_EQ(gone["source"], "dsn");
  EXPECT_EQ(gone["status"], "5.1.1");
  EXPECT_EQ(gone["message_id"], message);
  EXPECT_TRUE(other["message_id"].is_null());
  auto suppression = Call("GET", "/api/v1/sites/alpha/mail/suppressions/gone@example.org", callers_[kEditorA]);
  ASSERT_EQ(suppression.status, 200) << suppression.body;
  EXPECT_EQ(Json(suppression)["reason"], "hard_bounce");
  EXPECT_EQ(Json(suppression)["source"], "dsn");
  auto events = BouncedEvents();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["email"], "gone@example.org");
  EXPECT_EQ(events[0]["message_id"], message);
  EXPECT_TRUE(Json(Call("GET", "/api/v1/sites/beta/mail/bounces", callers_[kEditorB]))["items"].empty());

  // The same DSN delivered again (another IMAP message, same report): not counted twice.
  folder.Deliver(Dsn("dsn-1@mx.example.org", "gone@example.org", "sent-1@alpha.example"));
  sync = Admin("POST", "/api/v1/inbox/accounts/" + inbox + "/sync");
  ASSERT_EQ(Json(sync)["fetched"], 1) << sync.body;
  EXPECT_EQ(Json(Call("GET", "/api/v1/sites/alpha/mail/bounces", callers_[kEditorA]))["items"].size(), 2u);
  EXPECT_EQ(BouncedEvents().size(), 2u);

  // No longer the bounce mailbox: its DSNs are ordinary mail.
  ASSERT_EQ(Admin("DELETE", "/api/v1/sites/alpha/mail/bounces/mailbox").status, 204);
  folder.Deliver(Dsn("dsn-3@mx.example.org", "third@example.org", "sent-1@alpha.example"));
  sync = Admin("POST", "/api/v1/inbox/accounts/" + inbox + "/sync");
  ASSERT_EQ(Json(sync)["fetched"], 1) << sync.body;
  EXPECT_EQ(Json(Call("GET", "/api/v1/sites/alpha/mail/bounces", callers_[kEditorA]))["items"].size(), 2u);
}

TEST_P(MailBouncesApi, SendGridEventWebhook) {
  ASSERT_FALSE(HasFailure());
  const auto account = CreateAccount("sendgrid");
  // Validation of the admin's input.
  const std::string endpoints = "/api/v1/sites/alpha/mail/bounces/endpoints";
  for (const auto& [body, code] : std::vector<std::pair<std::string, std::string>>{
           {R"({"account_id":)" + std::to_string(account) + "}", "verification_key"},
           {R"({"account_id":)" + std::to_string(account) + R"(,"verification_key":"<script>alert(1)</script>"})",
            "verification_key"},
           {R"({"account_id":)" + std::to_string(account) + R"(,"verification_key":"a\r\nb"})", "verification_key"},
           {R"({"account_id":"1 OR 1=1"})", "account_id"},
           {R"({"account_id":)" + std::to_string(account) + R"(,"extra":1})", "extra"},
           {R"({})", "account_id"}}) {
    auto r = Admin("POST", endpoints, body);
    EXPECT_EQ(r.status, 422) << body << " " << r.body;
    EXPECT_NE(r.body.find("\"" + code + "\""), std::string::npos) << r.body;
    EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
  }
  EXPECT_EQ(Admin("POST", endpoints, "not json").status, 400);
  EXPECT_EQ(Admin("POST", endpoints, "[]").status, 400);
  EXPECT_EQ(Admin("POST", endpoints, std::string(20000, ' ')).status, 413);

  auto created =
      Admin("POST", endpoints,
            nlohmann::json{{"account_id", account}, {"verification_key", sendgrid_.PublicKeyBase64()}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const auto endpoint = Json(created);
  const std::string token = endpoint["token"];
  EXPECT_EQ(endpoint["path"], "/api/v1/mail/events/sendgrid/" + token);
  EXPECT_EQ(created.headers.Get("Cache-Control").value_or(""), "no-store");
  auto listed = Admin("GET", endpoints);
  EXPECT_EQ(listed.body.find(token), std::string::npos);  // never shown again
  EXPECT_EQ(Admin("POST", endpoints,
                  nlohmann::json{{"account_id", account}, {"verification_key", sendgrid_.PublicKeyBase64()}}.dump())
                .status,
            409);

  const auto message = AddMessage(site_a_, "<m1@alpha.example>", "14c5d75ce93");
  const std::string body =
      R"([{"email":"hard@example.com","timestamp":1700000000,"event":"bounce","type":"bounce",)"
      R"("status":"5.1.1","reason":"550 5.1.1 unknown","sg_event_id":"e1",)"
      R"("sg_message_id":"14c5d75ce93.filter0001.16648.5515E0B88.0"},)"
      R"({"email":"bye@example.com","timestamp":1700000000,"event":"unsubscribe","sg_event_id":"e2"},)"
      R"({"email":"spam@example.com","timestamp":1700000000,"event":"spamreport","sg_event_id":"e3"}])";
  auto ts = Now();
  auto r = PostSendGrid(token, body, ts, sendgrid_.Sign(ts, body));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["events"], 3);
  EXPECT_EQ(Json(r)["recorded"], 2);
  EXPECT_EQ(Json(r)["suppressed"], 1);
  auto list = Json(Admin("GET", "/api/v1/sites/alpha/mail/bounces?kind=hard"));
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["message_id"], message);
  EXPECT_EQ(Json(Admin("GET", "/api/v1/sites/alpha/mail/suppressions/bye@example.com"))["reason"], "unsubscribe");
  EXPECT_EQ(Json(Admin("GET", "/api/v1/sites/alpha/mail/suppressions/spam@example.com"))["reason"], "complaint");
  EXPECT_EQ(BouncedEvents().size(), 2u);
  // Retried by SendGrid: once.
  r = PostSendGrid(token, body, ts, sendgrid_.Sign(ts, body));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["recorded"], 0);

  // Unsigned, forged, replayed, malformed, oversized.
  r = PostSendGrid(token, body, "", "");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_FALSE(r.headers.Get("WWW-Authenticate").value_or("").empty());
  mail::testing::SendGridSigner other;
  r = PostSendGrid(token, body, ts, other.Sign(ts, body));
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(r.body.find("signature does not verify"), std::string::npos);  // the internal detail stays inside
  const auto stale = std::to_string(std::time(nullptr) - 3600);
  EXPECT_EQ(PostSendGrid(token, body, stale, sendgrid_.Sign(stale, body)).status, 403);
  EXPECT_EQ(PostSendGrid(token, body + "\r\n", ts, sendgrid_.Sign(ts, body)).status, 403);
  EXPECT_EQ(PostSendGrid(token, "{\"x\":1}", ts, sendgrid_.Sign(ts, "{\"x\":1}")).status, 400);
  const std::string huge = "[" + std::string(2 << 20, ' ') + "]";
  EXPECT_EQ(PostSendGrid(token, huge, ts, sendgrid_.Sign(ts, huge)).status, 413);
  EXPECT_EQ(PostSendGrid("no-such-token", body, ts, sendgrid_.Sign(ts, body)).status, 404);
  const auto crlf = PostSendGrid("%0d%0aX:%20y", body, ts, sendgrid_.Sign(ts, body)).status;
  EXPECT_TRUE(crlf == 404 || crlf == 400) << crlf;

  // Rotated: the old token is gone; deleted: the new one too.
  const std::string id = std::to_string(endpoint["id"].get<std::int64_t>());
  auto rotated = Admin("POST", endpoints + "/" + id + "/rotate");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  const std::string new_token = Json(rotated)["token"];
  EXPECT_EQ(PostSendGrid(token, "[]", ts, sendgrid_.Sign(ts, "[]")).status, 404);
  EXPECT_EQ(PostSendGrid(new_token, "[]", ts, sendgrid_.Sign(ts, "[]")).status, 200);
  // A new key from SendGrid: the old signer no longer verifies.
  mail::testing::SendGridSigner next;
  auto patched =
      Admin("PATCH", endpoints + "/" + id, nlohmann::json{{"verification_key", next.PublicKeyBase64()}}.dump());
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(PostSendGrid(new_token, "[]", ts, sendgrid_.Sign(ts, "[]")).status, 403);
  EXPECT_EQ(PostSendGrid(new_token, "[]", ts, next.Sign(ts, "[]")).status, 200);
  EXPECT_EQ(Admin("PATCH", endpoints + "/" + id, R"({"topic_arn":"arn:aws:sns:us-east-1:123456789012:x"})").status,
            422);
  EXPECT_EQ(Admin("DELETE", endpoints + "/" + id).status, 204);
  EXPECT_EQ(PostSendGrid(new_token, "[]", ts, next.Sign(ts, "[]")).status, 404);
}

TEST_P(MailBouncesApi, SesNotificationsThroughSns) {
  ASSERT_FALSE(HasFailure());
  const auto account = CreateAccount("ses");
  const std::string endpoints = "/api/v1/sites/alpha/mail/bounces/endpoints";
  EXPECT_EQ(
      Admin("POST", endpoints, nlohmann::json{{"account_id", account}, {"topic_arn", "arn:aws:sns:x"}}.dump()).status,
      422);
  auto created = Admin("POST", endpoints, nlohmann::json{{"account_id", account}, {"topic_arn", kTopic}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string token = Json(created)["token"];

  mail::SnsMessage confirm;
  confirm.type = "SubscriptionConfirmation";
  confirm.message_id = "c-1";
  confirm.token = "tok";
  confirm.topic_arn = kTopic;
  confirm.message = "You have chosen to subscribe to the topic.";
  confirm.subscribe_url = stand_in_.confirm_url();
  confirm.timestamp = "2023-11-14T22:13:20.000Z";
  confirm.signature_version = "1";
  confirm.signing_cert_url = stand_in_.cert_url();
  sns_.Sign(confirm);
  auto r = PostSns(token, confirm);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["confirmed"], true);
  EXPECT_EQ(stand_in_.CountOf("/confirm"), 1);
  EXPECT_TRUE(Json(Admin("GET", endpoints))["items"][0]["confirmed_at"].is_number());

  const auto message = AddMessage(site_a_, "<m9@alpha.example>", "ses-0001");
  mail::SnsMessage n;
  n.type = "Notification";
  n.message_id = "n-1";
  n.topic_arn = kTopic;
  n.message = R"({"notificationType":"Bounce","bounce":{"bounceType":"Permanent","feedbackId":"fb-1",)"
              R"("bouncedRecipients":[{"emailAddress":"gone@example.com","status":"5.1.1"}]},)"
              R"("mail":{"messageId":"ses-0001"}})";
  n.timestamp = "2023-11-14T22:13:20.000Z";
  n.signature_version = "2";
  n.signing_cert_url = stand_in_.cert_url();
  sns_.Sign(n);
  r = PostSns(token, n);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["recorded"], 1);
  auto list = Json(Admin("GET", "/api/v1/sites/alpha/mail/bounces"));
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["items"][0]["source"], "ses");
  EXPECT_EQ(list["items"][0]["message_id"], message);
  EXPECT_EQ(Json(Admin("GET", "/api/v1/sites/alpha/mail/suppressions/gone@example.com"))["reason"], "hard_bounce");
  EXPECT_EQ(BouncedEvents().size(), 1u);

  // Forged and hostile.
  auto forged = n;
  forged.message =
      R"({"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"x@example.com"}]},"mail":{}})";
  r = PostSns(token, forged);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.headers.Get("Content-Type").value_or(""), "application/problem+json");
  auto elsewhere = n;
  elsewhere.signing_cert_url = "https://sns.us-east-1.amazonaws.com.attacker.example/cert.pem";
  sns_.Sign(elsewhere);
  EXPECT_EQ(PostSns(token, elsewhere).status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/mail/events/ses/" + token, {}, "{\"Type\":").status, 400);
  EXPECT_EQ(Call("POST", "/api/v1/mail/events/ses/" + token, {}, std::string(600 * 1024, 'x')).status, 413);
  EXPECT_EQ(Json(Admin("GET", "/api/v1/sites/alpha/mail/bounces"))["items"].size(), 1u);
}

TEST_P(MailBouncesApi, ProviderEndpointsAreRateLimitedPerClient) {
  ASSERT_FALSE(HasFailure());
  int limited = 0;
  for (int i = 0; i < 620 && limited == 0; ++i) {
    auto r = CallFrom("203.0.113.9", "POST", "/api/v1/mail/events/ses/unknown", {}, "{}");
    if (r.status == 429)
      ++limited;
    else
      ASSERT_EQ(r.status, 404) << i;
  }
  EXPECT_EQ(limited, 1);
  EXPECT_EQ(CallFrom("203.0.113.10", "POST", "/api/v1/mail/events/ses/unknown", {}, "{}").status, 404);
}

POSTE_INSTANTIATE_DB_TEST(MailBouncesApi);

}  // namespace
}  // namespace poste::testing
