#include "modules/mail/provider_events_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "jobs/job_queue.hpp"
#include "lib/mail/sns.hpp"
#include "lib/mail/testing/event_signers.hpp"
#include "lib/net/http_client.hpp"
#include "modules/mail/mail_bounce_service.hpp"
#include "modules/mail/mail_suppression_service.hpp"
#include "modules/mail/mail_template_test_support.hpp"

namespace poste::mail {
namespace {

using testing::ErrorStatus;
using testing::FieldCodes;
using Strings = std::vector<std::string>;

constexpr const char* kTopic = "arn:aws:sns:us-east-1:123456789012:ses-bounces";

class ProviderEventsTest : public testing::MailDbTest {
 protected:
  void SetUp() override {
    MailDbTest::SetUp();
    // The clock the signatures are checked at: the test certificates are valid around the real time.
    now_ = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
               .count();
    queue_ = std::make_unique<jobs::JobQueue>(db(), [this] { return now_; });
    suppressions_ = std::make_unique<MailSuppressionsService>(db(), [this] { return now_; });
    BounceOptions bounce_options;
    bounce_options.now_ms = [this] { return now_; };
    bounces_ = std::make_unique<MailBouncesService>(db(), *queue_, *suppressions_, std::move(bounce_options));
    net::HttpClientOptions client_options;
    client_options.policy = net::TargetPolicy::WithAllowList({"127.0.0.1"});
    client_ = std::make_unique<net::HttpClient>(client_options);
    sendgrid_a_ = AddAccount(site_a_, "sendgrid");
    ses_a_ = AddAccount(site_a_, "ses");
    smtp_a_ = AddAccount(site_a_, "smtp");
    sendgrid_b_ = AddAccount(site_b_, "sendgrid");
    Build({});
  }

  void Build(std::vector<std::string> extra_hosts) {
    ProviderEventsOptions options;
    options.account_type = [this](std::int64_t site, std::int64_t id) -> std::optional<std::string> {
      return db().ReadValue([&](soci::session& s) -> std::optional<std::string> {
        const long long site_id = site, account = id;
        std::string type;
        s << "SELECT type FROM mail_accounts WHERE site_id = :s AND id = :id", soci::use(site_id), soci::use(account),
            soci::into(type);
        if (!s.got_data()) return std::nullopt;
        return type;
      });
    };
    options.sns_extra_hosts = std::move(extra_hosts);
    options.now_ms = [this] { return now_; };
    service_ = std::make_unique<ProviderEventsService>(db(), *bounces_, *suppressions_, *client_, std::move(options));
  }

  std::int64_t AddAccount(std::int64_t site, const std::string& type) {
    return db().WriteValue([&](soci::session& s) {
      const long long site_id = site;
      long long id = 0;
      s << "INSERT INTO mail_accounts (site_id, name, type, from_email, created_at, updated_at)"
           " VALUES (:s, :n, :t, 'news@example.com', 1, 1) RETURNING id",
          soci::use(site_id), soci::use(type), soci::use(type), soci::into(id);
      return static_cast<std::int64_t>(id);
    });
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

  ProviderEndpointCreated SendGridEndpoint(const std::string& key) {
    ProviderEndpointInput in;
    in.account_id = sendgrid_a_;
    in.verification_key = key;
    return service_->Create(origin_, site_a_, in);
  }

  ProviderEndpointCreated SesEndpoint() {
    ProviderEndpointInput in;
    in.account_id = ses_a_;
    in.topic_arn = kTopic;
    return service_->Create(origin_, site_a_, in);
  }

  std::string Timestamp() const { return std::to_string(now_ / 1000); }

  SnsMessage SesNotification(const std::string& cert_url, const std::string& message, const std::string& id = "n-1") {
    SnsMessage m;
    m.type = "Notification";
    m.message_id = id;
    m.topic_arn = kTopic;
    m.message = message;
    m.timestamp = "2023-11-14T22:13:20.000Z";
    m.signature_version = "2";
    m.signing_cert_url = cert_url;
    return m;
  }

  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<MailSuppressionsService> suppressions_;
  std::unique_ptr<MailBouncesService> bounces_;
  std::unique_ptr<net::HttpClient> client_;
  std::unique_ptr<ProviderEventsService> service_;
  std::int64_t sendgrid_a_ = 0, ses_a_ = 0, smtp_a_ = 0, sendgrid_b_ = 0;
};

TEST_P(ProviderEventsTest, EndpointsAreMadeForTheSitesSendGridAndSesAccounts) {
  testing::SendGridSigner signer;
  const auto key = signer.PublicKeyBase64();
  const auto create = [&](std::optional<std::int64_t> account, std::optional<std::string> k,
                          std::optional<std::string> topic) {
    return FieldCodes([&] { service_->Create(origin_, site_a_, {account, k, topic}); });
  };
  EXPECT_EQ(create(smtp_a_, key, std::nullopt), Strings{"account_id:invalid"});
  EXPECT_EQ(create(sendgrid_b_, key, std::nullopt), Strings{"account_id:invalid"});  // another site's
  EXPECT_EQ(create(std::nullopt, key, std::nullopt), Strings{"account_id:invalid"});
  EXPECT_EQ(create(sendgrid_a_, std::nullopt, std::nullopt), Strings{"verification_key:required"});
  EXPECT_EQ(create(sendgrid_a_, "bm90IGEga2V5", std::nullopt), Strings{"verification_key:invalid"});
  EXPECT_EQ(create(sendgrid_a_, key, kTopic), Strings{"topic_arn:invalid"});
  EXPECT_EQ(create(ses_a_, std::nullopt, std::nullopt), Strings{"topic_arn:required"});
  EXPECT_EQ(create(ses_a_, std::nullopt, "arn:aws:sns:us-east-1:123:x\r\n"), Strings{"topic_arn:invalid"});
  EXPECT_EQ(create(ses_a_, key, kTopic), Strings{"verification_key:invalid"});

  auto sg = SendGridEndpoint(key);
  EXPECT_EQ(sg.endpoint.provider, "sendgrid");
  EXPECT_EQ(sg.path, "/api/v1/mail/events/sendgrid/" + sg.token);
  EXPECT_GE(sg.token.size(), 43u);
  EXPECT_NE(sg.endpoint.token_hash, sg.token);  // only its digest is kept
  EXPECT_EQ(ErrorStatus([&] { SendGridEndpoint(key); }), 409);
  auto ses = SesEndpoint();
  EXPECT_EQ(ses.endpoint.provider, "ses");
  EXPECT_EQ(ses.endpoint.topic_arn, kTopic);
  EXPECT_EQ(service_->List(site_a_).size(), 2u);
  EXPECT_TRUE(service_->List(site_b_).empty());

  // Update: another topic must be confirmed again; a site's endpoint is not another site's.
  auto updated = service_->Update(origin_, site_a_, ses.endpoint.id,
                                  {std::nullopt, std::nullopt, std::string("arn:aws:sns:eu-west-1:123456789012:b")});
  EXPECT_EQ(updated.topic_arn, "arn:aws:sns:eu-west-1:123456789012:b");
  EXPECT_EQ(ErrorStatus([&] { service_->Update(origin_, site_b_, ses.endpoint.id, {}); }), 404);
  EXPECT_EQ(ErrorStatus([&] { service_->Rotate(origin_, site_b_, sg.endpoint.id); }), 404);
  EXPECT_EQ(ErrorStatus([&] { service_->Delete(origin_, site_b_, sg.endpoint.id); }), 404);

  // Rotating: the old token names nothing any more.
  auto rotated = service_->Rotate(origin_, site_a_, sg.endpoint.id);
  EXPECT_NE(rotated.token, sg.token);
  const auto ts = Timestamp();
  const std::string body = "[]";
  EXPECT_EQ(ErrorStatus([&] { service_->HandleSendGrid(sg.token, signer.Sign(ts, body), ts, body); }), 404);
  EXPECT_EQ(service_->HandleSendGrid(rotated.token, signer.Sign(ts, body), ts, body).events, 0);
  service_->Delete(origin_, site_a_, sg.endpoint.id);
  EXPECT_EQ(ErrorStatus([&] { service_->HandleSendGrid(rotated.token, signer.Sign(ts, body), ts, body); }), 404);
  EXPECT_EQ(AuditActions(),
            (Strings{"mail_event_endpoint.create", "mail_event_endpoint.create", "mail_event_endpoint.update",
                     "mail_event_endpoint.rotate", "mail_event_endpoint.delete"}));
}

TEST_P(ProviderEventsTest, SendGridEventsBecomeBouncesAndSuppressions) {
  testing::SendGridSigner signer;
  auto sg = SendGridEndpoint(signer.PublicKeyBase64());
  const auto message = AddMessage(site_a_, "<m1@alpha.example>", "14c5d75ce93");
  const std::string body = R"([
    {"email":"hard@example.com","timestamp":1700000000,"event":"bounce","type":"bounce","status":"5.1.1",
     "reason":"550 5.1.1 unknown","sg_event_id":"e1","sg_message_id":"14c5d75ce93.filter0001.16648.5515E0B88.0"},
    {"email":"blocked@example.com","timestamp":1700000000,"event":"bounce","type":"blocked","sg_event_id":"e2"},
    {"email":"dropped@example.com","timestamp":1700000000,"event":"dropped","reason":"Bounced Address","sg_event_id":"e3"},
    {"email":"invalid@example.com","timestamp":1700000000,"event":"dropped","reason":"Invalid","sg_event_id":"e4"},
    {"email":"unsub-drop@example.com","timestamp":1700000000,"event":"dropped","reason":"Unsubscribed Address","sg_event_id":"e5"},
    {"email":"later@example.com","timestamp":1700000000,"event":"deferred","smtp-id":"<m1@alpha.example>","sg_event_id":"e6"},
    {"email":"spam@example.com","timestamp":1700000000,"event":"spamreport","sg_event_id":"e7"},
    {"email":"bye@example.com","timestamp":1700000000,"event":"unsubscribe","sg_event_id":"e8"},
    {"email":"group@example.com","timestamp":1700000000,"event":"group_unsubscribe","asm_group_id":1,"sg_event_id":"e9"},
    {"email":"ok@example.com","timestamp":1700000000,"event":"delivered","sg_event_id":"e10"},
    {"email":"ok@example.com","timestamp":1700000000,"event":"open","sg_event_id":"e11"}])";
  const auto ts = Timestamp();
  auto result = service_->HandleSendGrid(sg.token, signer.Sign(ts, body), ts, body);
  EXPECT_EQ(result.events, 11);
  EXPECT_EQ(result.recorded, 6);
  EXPECT_EQ(result.suppressed, 2);
  auto page = bounces_->List(site_a_, {});
  ASSERT_EQ(page.items.size(), 6u);
  std::map<std::string, BounceRecord> by_email;
  for (const auto& b : page.items) by_email[b.email] = b;
  EXPECT_EQ(by_email["hard@example.com"].kind, BounceKind::kHard);
  EXPECT_EQ(by_email["hard@example.com"].message_id, message);  // by the X-Message-Id prefix
  EXPECT_EQ(by_email["hard@example.com"].occurred_at, 1'700'000'000'000);
  EXPECT_EQ(by_email["hard@example.com"].source, "sendgrid");
  EXPECT_EQ(by_email["blocked@example.com"].kind, BounceKind::kSoft);
  EXPECT_EQ(by_email["dropped@example.com"].kind, BounceKind::kHard);
  EXPECT_EQ(by_email["invalid@example.com"].kind, BounceKind::kHard);
  EXPECT_EQ(by_email.count("unsub-drop@example.com"), 0u);
  EXPECT_EQ(by_email["later@example.com"].kind, BounceKind::kSoft);
  EXPECT_EQ(by_email["later@example.com"].message_id, message);  // by smtp-id
  EXPECT_EQ(by_email["spam@example.com"].kind, BounceKind::kComplaint);
  EXPECT_EQ(suppressions_->Get(site_a_, "hard@example.com").reason, SuppressionReason::kHardBounce);
  EXPECT_EQ(suppressions_->Get(site_a_, "spam@example.com").reason, SuppressionReason::kComplaint);
  EXPECT_EQ(suppressions_->Get(site_a_, "bye@example.com").reason, SuppressionReason::kUnsubscribe);
  EXPECT_EQ(suppressions_->Get(site_a_, "group@example.com").source, "sendgrid");
  EXPECT_FALSE(suppressions_->IsSuppressed(site_a_, "blocked@example.com"));
  EXPECT_FALSE(suppressions_->IsSuppressed(site_a_, "later@example.com"));
  EXPECT_FALSE(suppressions_->IsSuppressed(site_b_, "hard@example.com"));
  EXPECT_TRUE(service_->List(site_a_)[0].last_event_at);

  // SendGrid posting the batch again (it retries on errors): nothing counted twice.
  now_ += 1000;
  const auto ts2 = Timestamp();
  result = service_->HandleSendGrid(sg.token, signer.Sign(ts2, body), ts2, body);
  EXPECT_EQ(result.recorded, 0);
  EXPECT_EQ(result.suppressed, 0);
  EXPECT_EQ(bounces_->List(site_a_, {}).items.size(), 6u);
}

TEST_P(ProviderEventsTest, SendGridPostsMustBeSignedFreshAndWellFormed) {
  testing::SendGridSigner signer, other;
  auto sg = SendGridEndpoint(signer.PublicKeyBase64());
  auto ses = SesEndpoint();
  const std::string body = R"([{"email":"a@example.com","event":"bounce","sg_event_id":"x"}])";
  const auto ts = Timestamp();
  const auto status = [&](std::string_view token, std::string_view sig, std::string_view t, std::string_view b) {
    return ErrorStatus([&] { service_->HandleSendGrid(token, sig, t, b); });
  };
  EXPECT_EQ(status("nope", signer.Sign(ts, body), ts, body), 404);
  EXPECT_EQ(status(ses.token, signer.Sign(ts, body), ts, body), 404);  // an SES endpoint's token
  EXPECT_EQ(status(std::string(5000, 'a'), signer.Sign(ts, body), ts, body), 404);
  EXPECT_EQ(status("../../etc/passwd", signer.Sign(ts, body), ts, body), 404);
  EXPECT_EQ(status(sg.token, "", ts, body), 401);
  EXPECT_EQ(status(sg.token, signer.Sign(ts, body), "", body), 401);
  EXPECT_EQ(status(sg.token, other.Sign(ts, body), ts, body), 403);         // another key
  EXPECT_EQ(status(sg.token, signer.Sign(ts, body), ts, body + " "), 403);  // body changed
  EXPECT_EQ(status(sg.token, "AAAA", ts, body), 403);
  EXPECT_EQ(status(sg.token, "%%%\r\n", ts, body), 403);
  // Outside the replay window (10 minutes either way), or not a number.
  const auto stale = std::to_string(now_ / 1000 - 601), future = std::to_string(now_ / 1000 + 601);
  EXPECT_EQ(status(sg.token, signer.Sign(stale, body), stale, body), 403);
  EXPECT_EQ(status(sg.token, signer.Sign(future, body), future, body), 403);
  const auto inside = std::to_string(now_ / 1000 - 599);
  EXPECT_EQ(status(sg.token, signer.Sign(inside, body), inside, body), 0);
  for (std::string bad : {"-1", "1e9", "17000000000000000000", " 1700000000", "abc"}) {
    EXPECT_EQ(status(sg.token, signer.Sign(bad, body), bad, body), 403) << bad;
  }
  // Signed but not an array of events.
  for (const std::string& bad : Strings{"", "{}", "not json", "[", std::string(100, '[')}) {
    EXPECT_EQ(status(sg.token, signer.Sign(ts, bad), ts, bad), 400) << bad;
  }
  EXPECT_EQ(bounces_->List(site_a_, {}).items.size(), 1u);  // only the post inside the window
}

TEST_P(ProviderEventsTest, SesThroughSnsIsVerifiedConfirmedAndRecorded) {
  testing::SnsSigner signer;
  testing::SnsStandIn stand_in(signer.certificate_pem());
  Build({stand_in.host()});
  auto ses = SesEndpoint();
  const auto message = AddMessage(site_a_, "<m9@alpha.example>", "ses-0001");

  SnsMessage confirm;
  confirm.type = "SubscriptionConfirmation";
  confirm.message_id = "c-1";
  confirm.token = "tok";
  confirm.topic_arn = kTopic;
  confirm.message = "You have chosen to subscribe to the topic.";
  confirm.subscribe_url = stand_in.confirm_url();
  confirm.timestamp = "2023-11-14T22:13:20.000Z";
  confirm.signature_version = "1";
  confirm.signing_cert_url = stand_in.cert_url();
  signer.Sign(confirm);
  auto result = service_->HandleSns(ses.token, testing::SnsSigner::Body(confirm));
  EXPECT_TRUE(result.confirmed);
  EXPECT_EQ(stand_in.CountOf("/confirm"), 1);
  EXPECT_EQ(service_->List(site_a_)[0].confirmed_at, now_);

  const std::string bounce = R"({"notificationType":"Bounce","bounce":{"bounceType":"Permanent","feedbackId":"fb-1",
    "timestamp":"2023-11-14T22:13:20.000Z","bouncedRecipients":[{"emailAddress":"gone@example.com","status":"5.1.1",
    "diagnosticCode":"smtp; 550 5.1.1 unknown"},{"emailAddress":"full@example.com"}]},
    "mail":{"messageId":"ses-0001","commonHeaders":{"messageId":"<m9@alpha.example>"}}})";
  auto n = SesNotification(stand_in.cert_url(), bounce);
  signer.Sign(n);
  result = service_->HandleSns(ses.token, testing::SnsSigner::Body(n));
  EXPECT_EQ(result.events, 2);
  EXPECT_EQ(result.recorded, 2);
  auto page = bounces_->List(site_a_, {});
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[1].email, "gone@example.com");
  EXPECT_EQ(page.items[1].kind, BounceKind::kHard);
  EXPECT_EQ(page.items[1].source, "ses");
  EXPECT_EQ(page.items[1].message_id, message);
  EXPECT_EQ(page.items[1].occurred_at, 1'700'000'000'000);
  EXPECT_TRUE(suppressions_->IsSuppressed(site_a_, "gone@example.com"));

  // SNS delivering it again, even under another MessageId (the same SES event, feedbackId fb-1): once.
  auto again = SesNotification(stand_in.cert_url(), bounce, "n-2");
  signer.Sign(again);
  EXPECT_EQ(service_->HandleSns(ses.token, testing::SnsSigner::Body(again)).recorded, 0);
  EXPECT_EQ(stand_in.CountOf("/cert.pem"), 1);  // the certificate is cached

  // A complaint in the event-publishing shape; a Delivery is read and ignored.
  auto complaint = SesNotification(stand_in.cert_url(), R"({"eventType":"Complaint","complaint":{"feedbackId":"fb-2",
    "complainedRecipients":[{"emailAddress":"angry@example.com"}]},"mail":{"messageId":"ses-0002"}})",
                                   "n-3");
  complaint.signature_version = "1";
  signer.Sign(complaint);
  EXPECT_EQ(service_->HandleSns(ses.token, testing::SnsSigner::Body(complaint)).recorded, 1);
  EXPECT_EQ(suppressions_->Get(site_a_, "angry@example.com").reason, SuppressionReason::kComplaint);
  auto delivery =
      SesNotification(stand_in.cert_url(), R"({"notificationType":"Delivery","mail":{"messageId":"x"}})", "n-4");
  signer.Sign(delivery);
  EXPECT_EQ(service_->HandleSns(ses.token, testing::SnsSigner::Body(delivery)).recorded, 0);
  auto other = SesNotification(stand_in.cert_url(), "plain text, not SES", "n-5");
  signer.Sign(other);
  EXPECT_EQ(service_->HandleSns(ses.token, testing::SnsSigner::Body(other)).events, 0);
}

TEST_P(ProviderEventsTest, SnsForgeriesAndHostileUrlsAreRefused) {
  testing::SnsSigner signer, forger;
  testing::SnsStandIn stand_in(signer.certificate_pem());
  testing::SnsStandIn forger_host(forger.certificate_pem());
  Build({stand_in.host()});
  auto ses = SesEndpoint();
  testing::SendGridSigner sg_signer;
  auto sg = SendGridEndpoint(sg_signer.PublicKeyBase64());
  const std::string bounce = R"({"notificationType":"Bounce","bounce":{"bounceType":"Permanent",
    "bouncedRecipients":[{"emailAddress":"gone@example.com"}]},"mail":{"messageId":"x"}})";
  const auto status = [&](std::string_view token, const SnsMessage& m) {
    return ErrorStatus([&] { service_->HandleSns(token, testing::SnsSigner::Body(m)); });
  };
  auto good = SesNotification(stand_in.cert_url(), bounce);
  signer.Sign(good);
  EXPECT_EQ(status("nope", good), 404);
  EXPECT_EQ(status(sg.token, good), 404);  // a SendGrid endpoint's token

  auto m = good;
  m.topic_arn = "arn:aws:sns:us-east-1:123456789012:other";
  signer.Sign(m);
  EXPECT_EQ(status(ses.token, m), 403);
  m = good;
  m.message = R"({"notificationType":"Bounce"})";  // changed after signing
  EXPECT_EQ(status(ses.token, m), 403);
  m = good;
  forger.Sign(m);  // signed by a key that is not the certificate's
  EXPECT_EQ(status(ses.token, m), 403);
  // The forger's own certificate, on a host that is not SNS's (nor configured): never fetched.
  m = SesNotification(forger_host.cert_url(), bounce);
  forger.Sign(m);
  EXPECT_EQ(status(ses.token, m), 403);
  EXPECT_EQ(forger_host.CountOf("/"), 0);
  for (const std::string& url : Strings{"https://evil.example/cert.pem", "http://sns.us-east-1.amazonaws.com/cert.pem",
                                        "https://sns.us-east-1.amazonaws.com.evil.example/cert.pem",
                                        "https://x@sns.us-east-1.amazonaws.com/cert.pem",
                                        "http://" + stand_in.host() + "@evil.example/cert.pem", "file:///etc/passwd"}) {
    m = SesNotification(url, bounce);
    signer.Sign(m);
    EXPECT_EQ(status(ses.token, m), 403) << url;
  }
  // A confirmation whose SubscribeURL is elsewhere is not followed.
  SnsMessage confirm;
  confirm.type = "SubscriptionConfirmation";
  confirm.message_id = "c";
  confirm.token = "t";
  confirm.topic_arn = kTopic;
  confirm.message = "m";
  confirm.subscribe_url = forger_host.confirm_url();
  confirm.timestamp = "2023-11-14T22:13:20.000Z";
  confirm.signature_version = "2";
  confirm.signing_cert_url = stand_in.cert_url();
  signer.Sign(confirm);
  EXPECT_EQ(status(ses.token, confirm), 403);
  EXPECT_EQ(forger_host.CountOf("/"), 0);
  // The certificate cannot be fetched: 503, so that SNS retries.
  m = SesNotification("http://" + stand_in.host() + "/missing.pem", bounce);
  signer.Sign(m);
  EXPECT_EQ(status(ses.token, m), 503);
  // Malformed posts.
  for (const std::string& bad : Strings{"", "{}", "[]", "{\"Type\":\"Notification\"}", std::string(600 * 1024, ' ')}) {
    EXPECT_EQ(ErrorStatus([&] { service_->HandleSns(ses.token, bad); }), 400);
  }
  EXPECT_TRUE(bounces_->List(site_a_, {}).items.empty());
  EXPECT_EQ(status(ses.token, good), 0);
  EXPECT_EQ(bounces_->List(site_a_, {}).items.size(), 1u);
}

TEST(SnsTopicArns, Shape) {
  EXPECT_TRUE(IsSnsTopicArn("arn:aws:sns:us-east-1:123456789012:ses-bounces"));
  EXPECT_TRUE(IsSnsTopicArn("arn:aws-cn:sns:cn-north-1:123456789012:a_b"));
  EXPECT_TRUE(IsSnsTopicArn("arn:aws:sns:us-east-1:123456789012:topic.fifo"));
  EXPECT_FALSE(IsSnsTopicArn(""));
  EXPECT_FALSE(IsSnsTopicArn("arn:aws:sqs:us-east-1:123456789012:q"));
  EXPECT_FALSE(IsSnsTopicArn("arn:aws:sns:us-east-1:1234:t"));
  EXPECT_FALSE(IsSnsTopicArn("arn:aws:sns:us-east-1:123456789012:"));
  EXPECT_FALSE(IsSnsTopicArn("arn:aws:sns:us-east-1:123456789012:a:b"));
  EXPECT_FALSE(IsSnsTopicArn("arn:aws:sns:US-EAST-1:123456789012:t"));
  EXPECT_FALSE(IsSnsTopicArn("arn:aws:sns:us--east-1:123456789012:t"));  // the region check of every AWS name
  EXPECT_FALSE(IsSnsTopicArn("arn:aws:sns::123456789012:t"));
  EXPECT_FALSE(IsSnsTopicArn("arn:aws:sns:us-east-1:123456789012:t\r\n"));
  EXPECT_FALSE(IsSnsTopicArn("arn:aws:sns:us-east-1:123456789012:<script>"));
  EXPECT_FALSE(IsSnsTopicArn("arn:aws:sns:us-east-1:123456789012:" + std::string(300, 'a')));
}

POSTE_INSTANTIATE_DB_TEST(ProviderEventsTest);

}  // namespace
}  // namespace poste::mail
