#include "lib/mail/sns.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "lib/mail/testing/event_signers.hpp"

namespace poste::mail {
namespace {

SnsMessage Notification(std::string message) {
  SnsMessage m;
  m.type = "Notification";
  m.message_id = "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324";
  m.topic_arn = "arn:aws:sns:us-west-2:123456789012:MyTopic";
  m.subject = "My First Message";
  m.message = std::move(message);
  m.timestamp = "2012-05-02T00:54:06.655Z";
  m.signature_version = "1";
  m.signing_cert_url =
      "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem";
  return m;
}

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

TEST(SnsStringToSign, FollowsTheDocumentedOrder) {
  auto m = Notification("Hello world!");
  EXPECT_EQ(SnsStringToSign(m),
            "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\n"
            "Timestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\n"
            "Type\nNotification\n");
  m.subject.reset();  // no Subject: not in the string at all
  EXPECT_EQ(SnsStringToSign(m).find("Subject"), std::string::npos);
  SnsMessage c;
  c.type = "SubscriptionConfirmation";
  c.message_id = "id";
  c.token = "tok";
  c.topic_arn = "arn";
  c.message = "msg";
  c.subscribe_url = "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription";
  c.timestamp = "ts";
  EXPECT_EQ(
      SnsStringToSign(c),
      "Message\nmsg\nMessageId\nid\nSubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription\n"
      "Timestamp\nts\nToken\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n");
}

TEST(SnsSignature, VersionsOneAndTwoVerify) {
  testing::SnsSigner signer;
  for (const char* version : {"1", "2"}) {
    auto m = Notification("{\"a\":1}");
    m.signature_version = version;
    signer.Sign(m);
    EXPECT_TRUE(VerifySnsSignature(m, signer.certificate_pem(), Now())) << version;
    // Through the parser: what SNS posts verifies the same.
    auto parsed = ParseSnsMessage(testing::SnsSigner::Body(m));
    ASSERT_TRUE(parsed);
    EXPECT_TRUE(VerifySnsSignature(*parsed, signer.certificate_pem(), Now()));
  }
}

TEST(SnsSignature, RefusesForgeries) {
  testing::SnsSigner signer, other;
  auto m = Notification("{\"a\":1}");
  m.signature_version = "2";
  signer.Sign(m);
  EXPECT_FALSE(VerifySnsSignature(m, other.certificate_pem(), Now()));  // another key
  auto changed = m;
  changed.message = "{\"a\":2}";
  EXPECT_FALSE(VerifySnsSignature(changed, signer.certificate_pem(), Now()));
  changed = m;
  changed.topic_arn = "arn:aws:sns:us-west-2:123456789012:Other";
  EXPECT_FALSE(VerifySnsSignature(changed, signer.certificate_pem(), Now()));
  changed = m;
  changed.subject.reset();  // dropping a signed field
  EXPECT_FALSE(VerifySnsSignature(changed, signer.certificate_pem(), Now()));
  changed = m;
  changed.signature_version = "1";  // a v2 signature read as v1
  EXPECT_FALSE(VerifySnsSignature(changed, signer.certificate_pem(), Now()));
  changed = m;
  changed.signature = "not base64";
  EXPECT_FALSE(VerifySnsSignature(changed, signer.certificate_pem(), Now()));
  changed.signature = "";
  EXPECT_FALSE(VerifySnsSignature(changed, signer.certificate_pem(), Now()));
  EXPECT_FALSE(VerifySnsSignature(m, "", Now()));
  EXPECT_FALSE(VerifySnsSignature(m, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n", Now()));
  EXPECT_FALSE(VerifySnsSignature(m, std::string(70000, 'A'), Now()));
  // An expired certificate, and a valid one at a time before it starts.
  testing::SnsSigner expired(-1);
  auto old = Notification("x");
  old.signature_version = "2";
  expired.Sign(old);
  EXPECT_FALSE(VerifySnsSignature(old, expired.certificate_pem(), Now()));
  EXPECT_FALSE(VerifySnsSignature(m, signer.certificate_pem(), Now() - 86400));
}

TEST(SnsMessageParse, ReadsNotificationsAndConfirmations) {
  auto m = Notification("line1\nline2");
  m.signature = "c2ln";
  auto parsed = ParseSnsMessage(testing::SnsSigner::Body(m));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->type, "Notification");
  EXPECT_EQ(parsed->message, "line1\nline2");  // the message is free text
  EXPECT_EQ(parsed->subject, "My First Message");
  EXPECT_EQ(parsed->topic_arn, m.topic_arn);
  auto no_subject = nlohmann::json::parse(testing::SnsSigner::Body(m));
  no_subject["Subject"] = nullptr;  // SNS sends null when there is none
  parsed = ParseSnsMessage(no_subject.dump());
  ASSERT_TRUE(parsed);
  EXPECT_FALSE(parsed->subject);
  SnsMessage c = m;
  c.type = "SubscriptionConfirmation";
  c.token = "tok";
  c.subscribe_url = "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&Token=tok";
  parsed = ParseSnsMessage(testing::SnsSigner::Body(c));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->token, "tok");
  EXPECT_EQ(parsed->subscribe_url, c.subscribe_url);
}

TEST(SnsMessageParse, RefusesMalformedAndHostileInput) {
  auto good = nlohmann::json::parse(testing::SnsSigner::Body([] {
    auto m = Notification("x");
    m.signature = "c2ln";
    return m;
  }()));
  std::string why;
  EXPECT_FALSE(ParseSnsMessage("", &why));
  EXPECT_FALSE(ParseSnsMessage("{", &why));
  EXPECT_FALSE(ParseSnsMessage("[]", &why));
  EXPECT_FALSE(ParseSnsMessage("\"Notification\"", &why));
  EXPECT_FALSE(ParseSnsMessage(std::string(kMaxSnsBodyBytes + 1, ' '), &why));
  EXPECT_EQ(why, "the body is too large");
  const auto without = [&](const char* field) {
    auto j = good;
    j.erase(field);
    return j.dump();
  };
  for (const char* field :
       {"Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"}) {
    EXPECT_FALSE(ParseSnsMessage(without(field), &why)) << field;
  }
  const auto with = [&](const char* field, nlohmann::json value) {
    auto j = good;
    j[field] = std::move(value);
    return j.dump();
  };
  EXPECT_FALSE(ParseSnsMessage(with("Type", "Other"), &why));
  EXPECT_FALSE(ParseSnsMessage(with("Type", 1), &why));
  EXPECT_FALSE(ParseSnsMessage(with("SignatureVersion", "3"), &why));
  EXPECT_FALSE(ParseSnsMessage(with("SignatureVersion", 1), &why));
  EXPECT_FALSE(ParseSnsMessage(with("Message", nlohmann::json::object()), &why));  // nested: refused
  EXPECT_FALSE(ParseSnsMessage(with("TopicArn", "arn:aws:sns:x\r\nX-Injected: 1"), &why));
  EXPECT_FALSE(ParseSnsMessage(with("SigningCertURL", std::string(3000, 'a')), &why));
  EXPECT_FALSE(ParseSnsMessage(with("Subject", 5), &why));
  // A confirmation needs its Token and SubscribeURL.
  EXPECT_FALSE(ParseSnsMessage(with("Type", "SubscriptionConfirmation"), &why));
  EXPECT_FALSE(ParseSnsMessage("{\"Type\":\"Notification\",\"x\":\"\xff\"}", &why));
}

TEST(SnsUrls, OnlySnsHostsOverHttps) {
  const std::vector<std::string> none;
  EXPECT_TRUE(SnsUrlAllowed("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", none));
  EXPECT_TRUE(SnsUrlAllowed("https://sns.eu-west-3.amazonaws.com/?Action=ConfirmSubscription&Token=x", none));
  EXPECT_TRUE(SnsUrlAllowed("https://sns.cn-north-1.amazonaws.com.cn/cert.pem", none));
  EXPECT_TRUE(SnsUrlAllowed("https://SNS.US-EAST-1.AMAZONAWS.COM/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("http://sns.us-east-1.amazonaws.com/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://sns.us-east-1.amazonaws.com:8443/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://evil.example/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://sns.us-east-1.amazonaws.com.evil.example/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://evil.example/sns.us-east-1.amazonaws.com/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://sns.us-east-1.amazonaws.com@evil.example/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://user:pw@sns.us-east-1.amazonaws.com/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://evil.example#@sns.us-east-1.amazonaws.com/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://evil.example\\@sns.us-east-1.amazonaws.com/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://s3.amazonaws.com/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://sns..amazonaws.com/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://sns.us_east.amazonaws.com/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("https://sns.us-east-1.amazonaws.com/cert.pem\r\nHost: evil", none));
  EXPECT_FALSE(SnsUrlAllowed("https://127.0.0.1/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("ftp://sns.us-east-1.amazonaws.com/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("//sns.us-east-1.amazonaws.com/cert.pem", none));
  EXPECT_FALSE(SnsUrlAllowed("", none));
}

TEST(SnsUrls, ConfiguredStandInHosts) {
  EXPECT_TRUE(SnsUrlAllowed("http://127.0.0.1:8080/cert.pem", {"127.0.0.1:8080"}));
  EXPECT_FALSE(SnsUrlAllowed("http://127.0.0.1:8081/cert.pem", {"127.0.0.1:8080"}));
  EXPECT_TRUE(SnsUrlAllowed("http://127.0.0.1:8081/cert.pem", {"127.0.0.1"}));
  EXPECT_TRUE(SnsUrlAllowed("https://Sns.Test/cert.pem", {"sns.test"}));
  EXPECT_FALSE(SnsUrlAllowed("http://user@127.0.0.1:8080/cert.pem", {"127.0.0.1:8080"}));
  EXPECT_FALSE(SnsUrlAllowed("http://127.0.0.2:8080/cert.pem", {"127.0.0.1:8080"}));
  EXPECT_TRUE(SnsUrlAllowed("http://[::1]:8080/cert.pem", {"[::1]:8080"}));
  EXPECT_TRUE(IsValidSnsHostEntry("127.0.0.1:8080"));
  EXPECT_TRUE(IsValidSnsHostEntry("sns.test"));
  EXPECT_TRUE(IsValidSnsHostEntry("[::1]:8443"));
  EXPECT_FALSE(IsValidSnsHostEntry(""));
  EXPECT_FALSE(IsValidSnsHostEntry("127.0.0.1:0"));
  EXPECT_FALSE(IsValidSnsHostEntry("127.0.0.1:99999"));
  EXPECT_FALSE(IsValidSnsHostEntry("http://127.0.0.1"));
  EXPECT_FALSE(IsValidSnsHostEntry("a b"));
}

constexpr const char* kSesBounce = R"({
  "notificationType":"Bounce",
  "bounce":{"bounceType":"Permanent","bounceSubType":"General","feedbackId":"fb-1",
    "timestamp":"2016-01-27T14:59:38.237Z",
    "bouncedRecipients":[
      {"emailAddress":"jane@example.com","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"},
      {"emailAddress":"Richard Roe <richard@example.com>"}]},
  "mail":{"timestamp":"2016-01-27T14:59:38.237Z","messageId":"0000014644fe5ef6-9a483358-0000-000000000000",
    "source":"john@example.com","commonHeaders":{"messageId":"<m1@alpha.example>"}}})";

TEST(SesNotifications, PermanentBounce) {
  auto events = ParseSesNotification(kSesBounce);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  const auto& e = (*events)[0];
  EXPECT_EQ(e.kind, SesEventKind::kPermanentBounce);
  EXPECT_EQ(e.email, "jane@example.com");
  EXPECT_EQ(e.status, "5.1.1");
  EXPECT_EQ(e.detail, "smtp; 550 5.1.1 user unknown");
  EXPECT_EQ(e.feedback_id, "fb-1");
  EXPECT_EQ(e.ses_message_id, "0000014644fe5ef6-9a483358-0000-000000000000");
  EXPECT_EQ(e.header_message_id, "m1@alpha.example");
  EXPECT_EQ(e.occurred_at_ms, 1453906778237);
  EXPECT_EQ((*events)[1].email, "richard@example.com");
  EXPECT_EQ((*events)[1].detail, "Permanent / General");
}

TEST(SesNotifications, EventPublishingShapeAndOtherKinds) {
  auto j = nlohmann::json::parse(kSesBounce);
  j.erase("notificationType");
  j["eventType"] = "Bounce";
  j["bounce"]["bounceType"] = "Transient";
  auto events = ParseSesNotification(j.dump());
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].kind, SesEventKind::kTransientBounce);
  j["bounce"]["bounceType"] = "Undetermined";
  EXPECT_EQ((*ParseSesNotification(j.dump()))[0].kind, SesEventKind::kUndeterminedBounce);

  const auto complaint = R"({"notificationType":"Complaint","complaint":{"feedbackId":"fb-2",
    "complaintFeedbackType":"abuse","timestamp":"2016-01-27T14:59:38+01:00",
    "complainedRecipients":[{"emailAddress":"richard@example.com"}]},"mail":{"messageId":"ses-2"}})";
  events = ParseSesNotification(complaint);
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].kind, SesEventKind::kComplaint);
  EXPECT_EQ((*events)[0].detail, "abuse");
  EXPECT_EQ((*events)[0].occurred_at_ms, 1453906778000 - 3600000);

  events = ParseSesNotification(R"({"notificationType":"Delivery","delivery":{},"mail":{"messageId":"x"}})");
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
  events = ParseSesNotification(R"({"eventType":"Open","open":{},"mail":{"messageId":"x"}})");
  ASSERT_TRUE(events);
  EXPECT_TRUE(events->empty());
}

TEST(SesNotifications, MalformedAndHostile) {
  std::string why;
  EXPECT_FALSE(ParseSesNotification("", &why));
  EXPECT_FALSE(ParseSesNotification("not json", &why));
  EXPECT_FALSE(ParseSesNotification("[]", &why));
  EXPECT_FALSE(ParseSesNotification(R"({"mail":{}})", &why));
  EXPECT_FALSE(ParseSesNotification(R"({"notificationType":"Bounce","bounce":{}})", &why));  // no mail
  EXPECT_FALSE(ParseSesNotification(R"({"notificationType":"Bounce","mail":{}})", &why));    // no bounce
  EXPECT_FALSE(ParseSesNotification(R"({"notificationType":"Bounce","mail":{},"bounce":{}})", &why));
  EXPECT_FALSE(ParseSesNotification(std::string(100, '{'), &why));
  EXPECT_FALSE(ParseSesNotification("{\"a\":" + std::string(50, '[') + std::string(50, ']') + "}", &why));
  // Wrong types and hostile values are skipped, not trusted.
  auto events = ParseSesNotification(R"({"notificationType":"Bounce","mail":{"messageId":5,"commonHeaders":"x"},
    "bounce":{"bounceType":["Permanent"],"bouncedRecipients":[1,"a",null,{"emailAddress":7},
      {"emailAddress":"x@example.com\r\nBcc: y@example.com"},{"emailAddress":"<script>@x"},
      {"emailAddress":"ok@example.com","status":{"x":1},"diagnosticCode":"550\r\nInjected: yes"}]}})");
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].email, "ok@example.com");
  EXPECT_EQ((*events)[0].kind, SesEventKind::kUndeterminedBounce);  // an unknown bounceType is never hard
  EXPECT_EQ((*events)[0].ses_message_id, "");
  EXPECT_EQ((*events)[0].status, "");
  EXPECT_EQ((*events)[0].detail, "550  Injected: yes");
  // A huge list is read up to the cap.
  nlohmann::json big = nlohmann::json::parse(kSesBounce);
  big["bounce"]["bouncedRecipients"] = nlohmann::json::array();
  for (int i = 0; i < 3000; ++i)
    big["bounce"]["bouncedRecipients"].push_back({{"emailAddress", "u" + std::to_string(i) + "@example.com"}});
  events = ParseSesNotification(big.dump());
  ASSERT_TRUE(events);
  EXPECT_EQ(events->size(), kMaxSesRecipients);
}

TEST(IsoTimestamps, ParsesWhatSesSends) {
  EXPECT_EQ(ParseIsoTimestampMs("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIsoTimestampMs("2016-01-27T14:59:38.237Z"), 1453906778237);
  EXPECT_EQ(ParseIsoTimestampMs("2016-01-27T14:59:38.2Z"), 1453906778200);
  EXPECT_EQ(ParseIsoTimestampMs("2016-01-27T14:59:38.123456Z"), 1453906778123);
  EXPECT_EQ(ParseIsoTimestampMs("2016-01-27T15:59:38+01:00"), 1453906778000);
  EXPECT_FALSE(ParseIsoTimestampMs(""));
  EXPECT_FALSE(ParseIsoTimestampMs("2016-01-27"));
  EXPECT_FALSE(ParseIsoTimestampMs("2016-13-27T14:59:38Z"));
  EXPECT_FALSE(ParseIsoTimestampMs("2016-01-27T14:59:38"));
  EXPECT_FALSE(ParseIsoTimestampMs("2016-01-27T14:59:38.Z"));
  EXPECT_FALSE(ParseIsoTimestampMs("2016-01-27 14:59:38Z"));
  EXPECT_FALSE(ParseIsoTimestampMs("yyyy-01-27T14:59:38Z"));
}

}  // namespace
}  // namespace poste::mail
