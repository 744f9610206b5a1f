#include "lib/mail/ses.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lib/mail/mime_parse.hpp"
#include "lib/mail/provider_http.hpp"
#include "lib/mail/testing/ses_standin.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {
namespace {

using json = nlohmann::json;
using testing::SesStandIn;
using namespace std::chrono_literals;

const SigV4Credentials kCredentials{"AKIDPOSTETEST", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
constexpr const char* kRegion = "eu-west-1";

net::HttpClient LoopbackClient() {
  return net::HttpClient({"Poste-Test/1", net::TargetPolicy::WithAllowList({"127.0.0.1"})});
}

OutgoingMessage Basic() {
  OutgoingMessage m;
  m.from = {"Poste Team", "team@example.com"};
  m.to = {{"Ann Example", "ann@example.org"}};
  m.subject = "Hello";
  m.html = "<p>Hi <b>Ann</b></p>";
  m.message_id = "ses-test-1@example.com";
  return m;
}

struct Prepared {
  explicit Prepared(OutgoingMessage m) : message(std::move(m)), built(BuildMessage(message)) {
    delivery.message = &message;
    delivery.built = &built;
    delivery.envelope_from = AsciiAddress(message.from.email);
    delivery.recipients = EnvelopeRecipients(message);
  }
  Prepared(const Prepared&) = delete;
  OutgoingMessage message;
  BuiltMessage built;
  Delivery delivery;
};

SesOptions Options(const SesStandIn& standin) {
  SesOptions options;
  options.region = kRegion;
  options.credentials = kCredentials;
  options.endpoint = standin.endpoint();
  options.total_timeout = 5s;
  return options;
}

SesTransport Transport(const SesOptions& options) { return SesTransport(options, LoopbackClient()); }

std::string Problems(SesStandIn& standin) {
  std::string out;
  for (const auto& p : standin.Problems()) out += p + "\n";
  return out;
}

TEST(SesTransport, SendsTheRawMimeSignedWithSignatureV4) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  OutgoingMessage m = Basic();
  m.cc = {{"", "carol@example.org"}};
  m.bcc = {{"", "dave@example.org"}};
  Prepared p(std::move(m));
  auto result = Transport(Options(standin)).Send(p.delivery);
  ASSERT_EQ(result.outcome, DeliveryOutcome::kSent) << result.answer << "\n" << Problems(standin);
  EXPECT_TRUE(standin.Problems().empty()) << Problems(standin);
  auto sent = standin.Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(result.provider_message_id, sent[0].message_id);
  EXPECT_FALSE(result.provider_message_id.empty());
  // The bytes SES received are the built message, byte for byte (Message-ID, DKIM signature included).
  EXPECT_EQ(sent[0].raw, p.built.bytes);
  EXPECT_NE(sent[0].raw.find("Message-Id: <ses-test-1@example.com>"), std::string::npos);
  EXPECT_EQ(sent[0].raw.find("dave@example.org"), std::string::npos);  // Bcc: envelope only
  EXPECT_EQ(sent[0].request["FromEmailAddress"], "team@example.com");
  EXPECT_EQ(sent[0].request["Destination"], json::parse(R"({"ToAddresses":["ann@example.org"],
      "CcAddresses":["carol@example.org"],"BccAddresses":["dave@example.org"]})"));
  EXPECT_FALSE(sent[0].request.contains("ConfigurationSetName"));
  EXPECT_FALSE(sent[0].request.contains("FeedbackForwardingEmailAddress"));

  auto request = standin.receiver().Requests().at(0);
  EXPECT_EQ(request.method, "POST");
  EXPECT_EQ(request.target, "/v2/email/outbound-emails");
  EXPECT_EQ(request.headers["content-type"], "application/json");
  const std::string auth = request.headers["authorization"];
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIDPOSTETEST/", 0), 0u) << auth;
  EXPECT_NE(auth.find("/eu-west-1/ses/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature="),
            std::string::npos)
      << auth;
  EXPECT_EQ(request.headers["x-amz-date"].size(), 16u);
}

TEST(SesTransport, TemporaryCredentialsSendAndSignTheSessionToken) {
  SigV4Credentials temporary = kCredentials;
  temporary.session_token = "FwoGZXIvYXdzEJr//////////wEaDH+token/with=specials";
  SesStandIn standin(temporary, kRegion, {"example.com"});
  SesOptions options = Options(standin);
  options.credentials = temporary;
  Prepared p(Basic());
  auto result = Transport(options).Send(p.delivery);
  ASSERT_EQ(result.outcome, DeliveryOutcome::kSent) << result.answer << "\n" << Problems(standin);
  auto request = standin.receiver().Requests().at(0);
  EXPECT_EQ(request.headers["x-amz-security-token"], temporary.session_token);
  EXPECT_NE(request.headers["authorization"].find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            std::string::npos);
  // Without the token the stand-in (like AWS) refuses the signature.
  options.credentials.session_token.clear();
  EXPECT_EQ(Transport(options).Send(p.delivery).outcome, DeliveryOutcome::kPermanent);
}

TEST(SesTransport, AWrongSecretKeyIdRegionOrClockIsRefusedPermanently) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  Prepared p(Basic());
  SesOptions wrong_secret = Options(standin);
  wrong_secret.credentials.secret_access_key = "not-the-secret";
  auto mismatch = Transport(wrong_secret).Send(p.delivery);
  EXPECT_EQ(mismatch.outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(mismatch.answer.rfind("HTTP 403: SignatureDoesNotMatch: The request signature we calculated", 0), 0u)
      << mismatch.answer;

  SesOptions wrong_key = Options(standin);
  wrong_key.credentials.access_key_id = "AKIDUNKNOWN";
  auto unknown = Transport(wrong_key).Send(p.delivery);
  EXPECT_EQ(unknown.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(unknown.answer.find("UnrecognizedClientException"), std::string::npos) << unknown.answer;

  SesOptions wrong_region = Options(standin);
  wrong_region.region = "us-east-1";
  auto region = Transport(wrong_region).Send(p.delivery);
  EXPECT_EQ(region.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(region.answer.find("InvalidSignatureException"), std::string::npos) << region.answer;

  SesOptions skewed = Options(standin);
  skewed.clock = [] { return std::chrono::system_clock::now() - 1h; };
  auto late = Transport(skewed).Send(p.delivery);
  EXPECT_EQ(late.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(late.answer.find("Signature expired"), std::string::npos) << late.answer;
  EXPECT_TRUE(standin.Sent().empty());
}

TEST(SesTransport, AnUnverifiedSenderIsMessageRejectedPermanently) {
  SesStandIn standin(kCredentials, kRegion, {"verified.example"});
  Prepared p(Basic());
  auto result = Transport(Options(standin)).Send(p.delivery);
  EXPECT_EQ(result.outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(result.answer,
            "HTTP 400: MessageRejected: Email address is not verified. The following identities failed the check in "
            "region eu-west-1: team@example.com");
}

TEST(SesTransport, ThrottlingAndServerErrorsAreTemporaryOtherErrorsPermanent) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  standin.ForceNext({SesStandIn::Error(429, "TooManyRequestsException", "Too many requests."),
                     SesStandIn::Error(400, "ThrottlingException", "Maximum sending rate exceeded."),
                     SesStandIn::Error(500, "InternalFailure", "internal error"),
                     SesStandIn::Error(503, "ServiceUnavailable", "unavailable"),
                     SesStandIn::Error(400, "MailFromDomainNotVerifiedException", "MAIL FROM domain not verified."),
                     SesStandIn::Error(400, "AccountSuspendedException", "The account is suspended."),
                     SesStandIn::Error(400, "MessageRejected", "Illegal address"),
                     {400, R"({"__type":"com.amazon.coral.validate#ValidationException","message":"bad field"})"}});
  Prepared p(Basic());
  auto transport = Transport(Options(standin));
  for (int i = 0; i < 4; ++i) {
    auto r = transport.Send(p.delivery);
    EXPECT_EQ(r.outcome, DeliveryOutcome::kTemporary) << r.answer;
  }
  for (const char* type :
       {"MailFromDomainNotVerifiedException", "AccountSuspendedException", "MessageRejected", "ValidationException"}) {
    auto r = transport.Send(p.delivery);
    EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent) << r.answer;
    EXPECT_NE(r.answer.find(type), std::string::npos) << r.answer;
  }
  EXPECT_EQ(transport.Send(p.delivery).outcome, DeliveryOutcome::kSent);
}

TEST(SesTransport, ConfigurationSetAndFeedbackAddressAreSentWhenSet) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  standin.AddConfigurationSet("poste-events");
  SesOptions options = Options(standin);
  options.configuration_set = "poste-events";
  Prepared p(Basic());
  p.delivery.envelope_from = "bounces+42@example.com";
  ASSERT_EQ(Transport(options).Send(p.delivery).outcome, DeliveryOutcome::kSent) << Problems(standin);
  const json request = standin.Sent().at(0).request;
  EXPECT_EQ(request["ConfigurationSetName"], "poste-events");
  EXPECT_EQ(request["FeedbackForwardingEmailAddress"], "bounces+42@example.com");

  options.configuration_set = "missing";
  auto missing = Transport(options).Send(p.delivery);
  EXPECT_EQ(missing.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(missing.answer.find("NotFoundException"), std::string::npos) << missing.answer;
}

TEST(SesTransport, WhatSesCannotTakeIsRefusedBeforeAnyRequest) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  OutgoingMessage m = Basic();
  for (int i = 0; i < 50; ++i) m.bcc.push_back({"", "r" + std::to_string(i) + "@example.org"});
  Prepared many(std::move(m));
  auto too_many = Transport(Options(standin)).Send(many.delivery);
  EXPECT_EQ(too_many.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(too_many.answer.find("at most 50 recipients"), std::string::npos) << too_many.answer;

  Prepared p(Basic());
  Delivery unbuilt = p.delivery;
  unbuilt.built = nullptr;
  EXPECT_EQ(Transport(Options(standin)).Send(unbuilt).outcome, DeliveryOutcome::kPermanent);

  for (const char* region : {"", "EU-WEST-1", "eu-west-1.evil.com/x?", "eu_west_1", "-eu", "eu--west"}) {
    SesOptions options = Options(standin);
    options.region = region;
    options.endpoint.clear();
    auto r = Transport(options).Send(p.delivery);
    EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent) << region;
  }
  EXPECT_EQ(standin.receiver().Count(), 0u);
  EXPECT_EQ(SesEndpoint("eu-central-2"), "https://email.eu-central-2.amazonaws.com");
  EXPECT_EQ(SesEndpoint("us-gov-west-1"), "https://email.us-gov-west-1.amazonaws.com");
  EXPECT_EQ(SesEndpoint("eu-west-1/../x"), "");
}

TEST(SesTransport, TheMessageIdRecipientsSeeIsSesOwn) {
  EXPECT_EQ(SesMessageIdHeader("eu-west-1", "0102018c1d2e3f40-aa-000000"),
            "<0102018c1d2e3f40-aa-000000@eu-west-1.amazonses.com>");
  EXPECT_EQ(SesMessageIdHeader("us-east-1", "0100018c1d2e3f40-bb-000000"),
            "<0100018c1d2e3f40-bb-000000@email.amazonses.com>");
  EXPECT_EQ(SesMessageIdHeader("eu-west-1", ""), "");
  EXPECT_EQ(SesMessageIdHeader("eu-west-1", "a>b"), "");
  EXPECT_EQ(SesMessageIdHeader("eu-west-1", "a\r\nb"), "");
  EXPECT_EQ(SesMessageIdHeader("not a region", "abc"), "");
}

TEST(SesTransport, TimeoutsAreTemporary) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  standin.ForceNext({{200, R"({"MessageId":"late"})", {}, 1500ms}});
  SesOptions options = Options(standin);
  options.total_timeout = 300ms;
  Prepared p(Basic());
  auto result = Transport(options).Send(p.delivery);
  EXPECT_EQ(result.outcome, DeliveryOutcome::kTemporary);
  EXPECT_NE(result.answer.find("timed out"), std::string::npos) << result.answer;
}

TEST(SesTransport, OversizedOrMalformedAnswersNeverCrash) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  std::string garbage(300 * 1024, 'x');
  for (std::size_t i = 0; i < garbage.size(); i += 7) garbage[i] = static_cast<char>(i % 256);
  standin.ForceNext({{500, garbage},
                     {400, R"({"message": 42, "__type": ["odd"]})"},
                     {400, "{\"message\":\"line\\r\\nbreak \\u0000 nul\"}", {{"x-amzn-ErrorType", "Bad\x01Type:x"}}},
                     {200, "{not json"},
                     {200, R"({"MessageId": {"nested": true}})"}});
  Prepared p(Basic());
  auto transport = Transport(Options(standin));
  auto huge = transport.Send(p.delivery);
  EXPECT_EQ(huge.outcome, DeliveryOutcome::kTemporary);
  EXPECT_LE(huge.answer.size(), kMaxAnswer + 3);
  for (auto outcome : {DeliveryOutcome::kPermanent, DeliveryOutcome::kPermanent}) {
    auto r = transport.Send(p.delivery);
    EXPECT_EQ(r.outcome, outcome) << r.answer;
    EXPECT_TRUE(validate::IsValidUtf8(r.answer));
    EXPECT_FALSE(validate::HasControlChars(r.answer, false)) << r.answer;
  }
  // A 200 means SES took the message: sent, even when its answer cannot be read (a retry would send twice).
  for (int i = 0; i < 2; ++i) {
    auto r = transport.Send(p.delivery);
    EXPECT_EQ(r.outcome, DeliveryOutcome::kSent);
    EXPECT_EQ(r.provider_message_id, "");
    EXPECT_NE(r.answer.find("no MessageId"), std::string::npos) << r.answer;
  }
}

TEST(SesTransport, HostileSubjectsAndNamesTravelInsideTheBase64Untouched) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  OutgoingMessage m = Basic();
  m.subject = R"(", "Destination": {"ToAddresses": ["evil@example.net"]} – Ünïcødé 😀)";
  m.to = {{R"(Doe, "JD" \ Ω)", "john@example.org"}, {"", "zoe@bücher.example"}};
  Prepared p(std::move(m));
  auto result = Transport(Options(standin)).Send(p.delivery);
  ASSERT_EQ(result.outcome, DeliveryOutcome::kSent) << result.answer << "\n" << Problems(standin);
  auto sent = standin.Sent().at(0);
  EXPECT_EQ(sent.raw, p.built.bytes);
  EXPECT_EQ(sent.request["Destination"],
            json::parse(R"({"ToAddresses":["john@example.org","zoe@xn--bcher-kva.example"]})"));
  auto parsed = ParseMessage(sent.raw);
  EXPECT_EQ(parsed.subject, p.message.subject);
}

TEST(SesTransport, CheckReportsTheAccountsState) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  auto ok = Transport(Options(standin)).Check();
  EXPECT_EQ(ok.outcome, DeliveryOutcome::kSent) << ok.answer << "\n" << Problems(standin);
  EXPECT_EQ(ok.answer,
            "HTTP 200: sending enabled in eu-west-1, production access, quota 50000 per 24 h (12 sent), 14 per second, "
            "enforcement status HEALTHY.");
  auto request = standin.receiver().Requests().at(0);
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/v2/email/account");
  EXPECT_NE(request.headers["authorization"].find("SignedHeaders=host;x-amz-date,"), std::string::npos);

  // Script answers come before the stand-in's own (the signature is not checked for them).
  standin.receiver().Script({{200, R"({"SendingEnabled":false,"ProductionAccessEnabled":false,
                                      "SendQuota":{"Max24HourSend":200,"MaxSendRate":1,"SentLast24Hours":0.5},
                                      "EnforcementStatus":"SHUTDOWN"})"},
                             {200, "[]"}});
  auto disabled = Transport(Options(standin)).Check();
  EXPECT_EQ(disabled.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(disabled.answer.find("sending DISABLED"), std::string::npos) << disabled.answer;
  EXPECT_NE(disabled.answer.find("sandbox"), std::string::npos);
  EXPECT_NE(disabled.answer.find("SHUTDOWN"), std::string::npos);
  EXPECT_NE(disabled.answer.find("quota 200 per 24 h (0.5 sent), 1 per second"), std::string::npos) << disabled.answer;
  EXPECT_EQ(Transport(Options(standin)).Check().outcome, DeliveryOutcome::kTemporary);

  standin.receiver().Script(
      {SesStandIn::Error(403, "AccessDeniedException",
                         "User: arn:aws:iam::123456789012:user/poste is not authorized to perform: ses:GetAccount")});
  auto least_privilege = Transport(Options(standin)).Check();
  EXPECT_EQ(least_privilege.outcome, DeliveryOutcome::kSent);
  EXPECT_NE(least_privilege.answer.find("not authorized to perform: ses:GetAccount"), std::string::npos);
  EXPECT_NE(least_privilege.answer.find("sending was not tried"), std::string::npos) << least_privilege.answer;

  SesOptions wrong = Options(standin);
  wrong.credentials.secret_access_key = "nope";
  auto refused = Transport(wrong).Check();
  EXPECT_EQ(refused.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(refused.answer.find("SignatureDoesNotMatch"), std::string::npos);
}

// The stand-in refuses what SES refuses: a body tampered with after signing.
TEST(SesStandIn, RefusesARequestChangedAfterSigning) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  SigV4Request request{"POST",
                       standin.endpoint() + "/v2/email/outbound-emails",
                       {{"Content-Type", "application/json"}},
                       R"({"Destination":{"ToAddresses":["a@example.org"]},"FromEmailAddress":"f@example.com",)"
                       R"("Content":{"Raw":{"Data":"RnJvbTogZkBleGFtcGxlLmNvbQ0KDQpoaQ0K"}}})"};
  auto signature = SignV4(request, kCredentials, kRegion, "ses", std::chrono::system_clock::now());
  net::HttpRequest http;
  http.method = "POST";
  http.url = request.url;
  http.headers = request.headers;
  for (const auto& h : signature.added_headers) http.headers.push_back(h);
  http.headers.emplace_back("Authorization", signature.authorization);
  http.body = request.body;
  EXPECT_EQ(LoopbackClient().Send(http).status, 200) << Problems(standin);
  http.body.replace(http.body.find("a@example.org"), 13, "b@example.org");
  auto tampered = LoopbackClient().Send(http);
  EXPECT_EQ(tampered.status, 403);
  EXPECT_NE(tampered.body.find("does not match"), std::string::npos);
  EXPECT_EQ(standin.Sent().size(), 1u);
}

}  // namespace
}  // namespace poste::mail

namespace poste::mail {
namespace {

// Delivery::on_commit runs right before the request; "no" withdraws the message and nothing is sent.
TEST(SesTransport, OnCommitRunsBeforeTheRequestAndCanWithdrawTheMessage) {
  SesStandIn standin(kCredentials, kRegion, {"example.com"});
  Prepared kept(Basic());
  int calls = 0;
  kept.delivery.on_commit = [&] { return ++calls, standin.receiver().Requests().empty(); };
  EXPECT_EQ(Transport(Options(standin)).Send(kept.delivery).outcome, DeliveryOutcome::kSent);
  EXPECT_EQ(calls, 1);
  Prepared withdrawn(Basic());
  withdrawn.delivery.on_commit = [&] { return ++calls, false; };
  auto result = Transport(Options(standin)).Send(withdrawn.delivery);
  EXPECT_EQ(result.outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(result.answer, "withdrawn before sending");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(standin.receiver().Requests().size(), 1u);
}

}  // namespace
}  // namespace poste::mail
