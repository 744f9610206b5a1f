#include "lib/mail/sendgrid.hpp"

#include <gmime/gmime.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lib/crypto/encoding.hpp"
#include "lib/mail/provider_http.hpp"
#include "lib/mail/testing/sendgrid_standin.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {
namespace {

using json = nlohmann::json;
using net::testing::ScriptedResponse;
using testing::SendGridStandIn;
using namespace std::chrono_literals;

constexpr const char* kKey = "SG.test-key.abcdef";

net::HttpClient LoopbackClient() {
  return net::HttpClient({"Poste-Test/1", net::TargetPolicy::WithAllowList({"127.0.0.1"})});
}

OutgoingMessage Basic() {
  OutgoingMessage m;
  m.from = {"Poste Team", "team@example.com"};
  m.to = {{"Ann Example", "ann@example.org"}};
  m.subject = "Hello";
  m.html = "<p>Hi <b>Ann</b></p>";
  m.message_id = "abc123@example.com";
  return m;
}

// A message with its built bytes and the delivery that points at both.
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

SendGridTransport Transport(const SendGridStandIn& standin, std::string key = kKey) {
  SendGridOptions options;
  options.api_key = std::move(key);
  options.base_url = standin.base_url() + "/";  // a trailing slash is dropped
  options.total_timeout = 5s;
  return SendGridTransport(options, LoopbackClient());
}

std::string DecodeHeaderText(const std::string& encoded) {
  InitMime();
  char* decoded = g_mime_utils_header_decode_text(nullptr, encoded.c_str());
  std::string out = decoded;
  g_free(decoded);
  return out;
}

std::string Problems(SendGridStandIn& standin) {
  std::string out;
  for (const auto& p : standin.Problems()) out += p + "\n";
  return out;
}

TEST(SendGridTransport, SendsTheMessageAsSendGridsJson) {
  SendGridStandIn standin(kKey);
  Prepared p(Basic());
  auto result = Transport(standin).Send(p.delivery);
  ASSERT_EQ(result.outcome, DeliveryOutcome::kSent) << result.answer << "\n" << Problems(standin);
  EXPECT_EQ(result.provider_message_id, "sg-1-AbC_dEf");
  EXPECT_EQ(result.answer, "HTTP 202");
  EXPECT_TRUE(standin.Problems().empty()) << Problems(standin);

  auto requests = standin.receiver().Requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v3/mail/send");
  EXPECT_EQ(requests[0].headers["authorization"], std::string("Bearer ") + kKey);
  EXPECT_EQ(requests[0].headers["content-type"], "application/json");

  auto sent = standin.Accepted();
  ASSERT_EQ(sent.size(), 1u);
  const json& body = sent[0];
  EXPECT_EQ(body["personalizations"], json::parse(R"([{"to":[{"email":"ann@example.org","name":"Ann Example"}]}])"));
  EXPECT_EQ(body["from"], json::parse(R"({"email":"team@example.com","name":"Poste Team"})"));
  EXPECT_EQ(body["subject"], "Hello");
  ASSERT_EQ(body["content"].size(), 2u);
  EXPECT_EQ(body["content"][0]["type"], "text/plain");
  EXPECT_NE(body["content"][0]["value"].get<std::string>().find("Hi Ann"), std::string::npos);
  EXPECT_EQ(body["content"][1], json::parse(R"({"type":"text/html","value":"<p>Hi <b>Ann</b></p>"})"));
  // The id in the built bytes (and stored) is the one SendGrid writes: replies thread on it.
  EXPECT_EQ(body["headers"]["Message-ID"], p.built.message_id);
  EXPECT_EQ(p.built.message_id, "<abc123@example.com>");
  EXPECT_FALSE(body.contains("attachments"));
  EXPECT_FALSE(body.contains("reply_to"));
}

TEST(SendGridTransport, CarriesCcBccReplyToThreadingAndUnsubscribeHeaders) {
  SendGridStandIn standin(kKey);
  OutgoingMessage m = Basic();
  m.to.push_back({"", "bob@example.net"});
  m.cc = {{"Carol", "carol@example.org"}, {"Ann Again", "ANN@example.org"}};  // repeated: sent once
  m.bcc = {{"", "dave@example.org"}, {"", "Bob@Example.net"}};
  m.reply_to = Mailbox{"Support", "support@example.com"};
  m.in_reply_to = "parent@example.com";
  m.references = {"root@example.com", "<parent@example.com>"};
  m.list_unsubscribe_url = "https://example.com/u/tok123";
  m.list_unsubscribe_mailto = "mailto:unsub@example.com?subject=unsubscribe";
  m.headers = {{"X-Campaign", "spring"}, {"X-Campaign", "week-2"}};
  Prepared p(std::move(m));
  auto result = Transport(standin).Send(p.delivery);
  ASSERT_EQ(result.outcome, DeliveryOutcome::kSent) << result.answer << "\n" << Problems(standin);
  const json body = standin.Accepted().at(0);
  EXPECT_EQ(body["personalizations"], json::parse(R"([{
      "to": [{"email":"ann@example.org","name":"Ann Example"},{"email":"bob@example.net"}],
      "cc": [{"email":"carol@example.org","name":"Carol"}],
      "bcc": [{"email":"dave@example.org"}]}])"));
  EXPECT_EQ(body["reply_to"], json::parse(R"({"email":"support@example.com","name":"Support"})"));
  const json& h = body["headers"];
  EXPECT_EQ(h["In-Reply-To"], "<parent@example.com>");
  EXPECT_EQ(h["References"], "<root@example.com> <parent@example.com>");
  EXPECT_EQ(h["List-Unsubscribe"], "<https://example.com/u/tok123>, <mailto:unsub@example.com?subject=unsubscribe>");
  EXPECT_EQ(h["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
  EXPECT_EQ(h["X-Campaign"], "spring, week-2");
}

TEST(SendGridTransport, AttachmentsGoInBase64AndInlinePartsWithTheirContentId) {
  SendGridStandIn standin(kKey);
  const std::string binary("\x89PNG\r\n\x1a\n\0\xff\xfe", 11);
  char path[] = "/tmp/poste-sendgrid-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path, std::ios::binary) << "from a file\n";
  OutgoingMessage m = Basic();
  m.html = R"(<p>Logo: <img src="cid:logo1"></p>)";
  std::string large(3 << 20, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>(i * 7 % 251);
  m.attachments = {{"logo.png", "image/PNG", binary, "", "logo1"},
                   {"report/2024\\q1.pdf", "application/pdf", "%PDF-1.4", "", ""},
                   {"notes.txt", "text/plain", "", path, ""},
                   {"large.bin", "application/octet-stream", large, "", ""}};
  Prepared p(std::move(m));
  auto result = Transport(standin).Send(p.delivery);
  std::remove(path);
  ASSERT_EQ(result.outcome, DeliveryOutcome::kSent) << result.answer << "\n" << Problems(standin);
  const json attachments = standin.Accepted().at(0)["attachments"];
  ASSERT_EQ(attachments.size(), 4u);
  EXPECT_EQ(attachments[0]["disposition"], "inline");
  EXPECT_EQ(attachments[0]["content_id"], "logo1");
  EXPECT_EQ(attachments[0]["type"], "image/png");
  EXPECT_EQ(*crypto::Base64Decode(attachments[0]["content"].get<std::string>()), binary);
  EXPECT_EQ(attachments[1]["disposition"], "attachment");
  EXPECT_EQ(attachments[1]["filename"], "report_2024_q1.pdf");
  EXPECT_FALSE(attachments[1].contains("content_id"));
  EXPECT_EQ(*crypto::Base64Decode(attachments[2]["content"].get<std::string>()), "from a file\n");
  EXPECT_EQ(*crypto::Base64Decode(attachments[3]["content"].get<std::string>()), large);
}

TEST(SendGridTransport, AnInlinePartWithoutHtmlIsAnAttachmentAndATextOnlyMessageHasOneContent) {
  SendGridStandIn standin(kKey);
  OutgoingMessage m = Basic();
  m.html.clear();
  m.text = "Plain only";
  m.attachments = {{"", "image/gif", "GIF89a", "", "orphan"}};
  Prepared p(std::move(m));
  ASSERT_EQ(Transport(standin).Send(p.delivery).outcome, DeliveryOutcome::kSent) << Problems(standin);
  const json body = standin.Accepted().at(0);
  EXPECT_EQ(body["content"], json::parse(R"([{"type":"text/plain","value":"Plain only"}])"));
  EXPECT_EQ(body["attachments"][0]["disposition"], "attachment");
  EXPECT_EQ(body["attachments"][0]["filename"], "attachment-1");
  EXPECT_FALSE(body["attachments"][0].contains("content_id"));
}

TEST(SendGridTransport, AnEmptyBodyAndSubjectAreSentAsSpacesSendGridAccepts) {
  SendGridStandIn standin(kKey);
  OutgoingMessage m = Basic();
  m.html.clear();
  m.subject.clear();
  Prepared p(std::move(m));
  ASSERT_EQ(Transport(standin).Send(p.delivery).outcome, DeliveryOutcome::kSent) << Problems(standin);
  const json body = standin.Accepted().at(0);
  EXPECT_EQ(body["subject"], " ");
  EXPECT_EQ(body["content"], json::parse(R"([{"type":"text/plain","value":" "}])"));
}

TEST(SendGridTransport, WithoutToEachCcOrBccRecipientGetsItsOwnPersonalization) {
  SendGridStandIn standin(kKey);
  OutgoingMessage m = Basic();
  m.to.clear();
  m.bcc = {{"", "one@example.org"}, {"", "two@example.org"}};
  Prepared p(std::move(m));
  ASSERT_EQ(Transport(standin).Send(p.delivery).outcome, DeliveryOutcome::kSent) << Problems(standin);
  EXPECT_EQ(standin.Accepted().at(0)["personalizations"],
            json::parse(R"([{"to":[{"email":"one@example.org"}]},{"to":[{"email":"two@example.org"}]}])"));
}

TEST(SendGridTransport, OnlyTheDeliverysEnvelopeRecipientsAreAddressed) {
  SendGridStandIn standin(kKey);
  OutgoingMessage m = Basic();
  m.to.push_back({"", "bob@example.net"});
  m.bcc = {{"", "dave@example.org"}};
  Prepared p(std::move(m));
  p.delivery.recipients = {"BOB@example.net", "dave@example.org"};  // a retry for the two still missing
  ASSERT_EQ(Transport(standin).Send(p.delivery).outcome, DeliveryOutcome::kSent) << Problems(standin);
  EXPECT_EQ(standin.Accepted().at(0)["personalizations"],
            json::parse(R"([{"to":[{"email":"bob@example.net"}],"bcc":[{"email":"dave@example.org"}]}])"));
  p.delivery.recipients = {"nobody@example.org"};
  auto result = Transport(standin).Send(p.delivery);
  EXPECT_EQ(result.outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(standin.receiver().Count(), 1u);
}

TEST(SendGridTransport, HostileNamesSubjectsAndBodiesAreEscapedNotInjected) {
  SendGridStandIn standin(kKey);
  OutgoingMessage m = Basic();
  const std::string subject = R"(Quote " backslash \ brace }], "subject": "owned" – Ünïcødé 😀 <b>)";
  m.subject = subject;
  m.from.name = R"(Evil "From", Inc; \ x)";
  m.to = {{R"(Doe, John "JD"; \ admin)", "john@example.org"}, {"Zoë Ångström", "zoe@bücher.example"}};
  m.html = "<p>\x01\x1f\x7f \"quoted\" \\ </script><script>alert(1)</script> \u2028 é</p>";
  m.text = "tab\there\r\nnew line \"q\" \\";
  m.headers = {{"X-Note", "Grüße, \"Welt\""}};
  m.attachments = {{R"(a"b\c ü'.pdf)", "application/pdf", "%PDF", "", ""}};
  Prepared p(std::move(m));
  auto result = Transport(standin).Send(p.delivery);
  ASSERT_EQ(result.outcome, DeliveryOutcome::kSent) << result.answer << "\n" << Problems(standin);
  const json body = standin.Accepted().at(0);  // it parsed: the escaping held
  EXPECT_EQ(body.size(), 6u) << body.dump();   // personalizations from subject content attachments headers
  EXPECT_EQ(body["subject"], subject);
  EXPECT_EQ(body["from"]["name"], R"(Evil "From", Inc; \ x)");  // SendGrid quotes the From name itself
  const json& to = body["personalizations"][0]["to"];
  EXPECT_EQ(to[0]["name"], R"("Doe, John \"JD\"; \\ admin")");  // a quoted-string: SendGrid's limitation
  EXPECT_EQ(to[1]["name"], "Zoë Ångström");
  EXPECT_EQ(to[1]["email"], "zoe@xn--bcher-kva.example");
  EXPECT_EQ(body["content"][1]["value"], p.message.html);
  EXPECT_EQ(body["content"][0]["value"], p.message.text);
  EXPECT_EQ(body["attachments"][0]["filename"], "a\"b_c ü'.pdf");
  const std::string note = body["headers"]["X-Note"];
  EXPECT_EQ(note.rfind("=?", 0), 0u) << note;  // RFC 2047: SendGrid passes header values through
  EXPECT_EQ(DecodeHeaderText(note), "Grüße, \"Welt\"");
  const std::string raw = standin.receiver().Requests().at(0).body;
  EXPECT_EQ(raw.find('\x01'), std::string::npos);
  EXPECT_NE(raw.find("\\u0001"), std::string::npos);
  EXPECT_TRUE(validate::IsValidUtf8(raw));
}

TEST(SendGridTransport, HeaderInjectionIsRefusedBeforeAnyRequest) {
  SendGridStandIn standin(kKey);
  for (auto mutate : std::vector<void (*)(OutgoingMessage&)>{
           [](OutgoingMessage& m) { m.subject = "Hi\r\nBcc: victim@example.org"; },
           [](OutgoingMessage& m) { m.to[0].name = "Ann\nX-Evil: 1"; },
           [](OutgoingMessage& m) { m.to[0].email = "ann@example.org\r\nRCPT TO:<x@y.z>"; },
           [](OutgoingMessage& m) {
             m.headers = {{"X-Ok", "a\r\nContent-Type: text/evil"}};
           },
           [](OutgoingMessage& m) {
             m.headers = {{"Content-Type", "text/evil"}};
           },
           [](OutgoingMessage& m) { m.html = std::string("bad \xff utf-8"); },
       }) {
    OutgoingMessage m = Basic();
    mutate(m);
    Delivery d;
    d.message = &m;
    d.recipients = {"ann@example.org"};
    auto result = Transport(standin).Send(d);
    EXPECT_EQ(result.outcome, DeliveryOutcome::kPermanent);
    EXPECT_NE(result.answer.find("cannot be sent"), std::string::npos) << result.answer;
    EXPECT_EQ(result.answer.find('\n'), std::string::npos) << result.answer;
  }
  EXPECT_EQ(standin.receiver().Count(), 0u);
}

TEST(SendGridTransport, TooManyRequestsAndServerErrorsAreTemporary) {
  SendGridStandIn standin(kKey);
  standin.ForceNext({{429, R"({"errors":[{"message":"too many requests"}]})", {{"Retry-After", "2"}}},
                     {500, "oops"},
                     {503, ""},
                     {408, "request timeout"}});
  Prepared p(Basic());
  auto transport = Transport(standin);
  for (const char* expected : {"HTTP 429: {\"errors\":[{\"message\":\"too many requests\"}]}", "HTTP 500: oops",
                               "HTTP 503", "HTTP 408: request timeout"}) {
    auto result = transport.Send(p.delivery);
    EXPECT_EQ(result.outcome, DeliveryOutcome::kTemporary) << expected;
    EXPECT_EQ(result.answer, expected);
    EXPECT_TRUE(result.provider_message_id.empty());
  }
  EXPECT_EQ(transport.Send(p.delivery).outcome, DeliveryOutcome::kSent);
  EXPECT_EQ(standin.Accepted().size(), 1u);
}

TEST(SendGridTransport, OtherClientErrorsArePermanentWithSendGridsAnswer) {
  SendGridStandIn standin(kKey);
  Prepared p(Basic());
  auto refused = Transport(standin, "SG.wrong").Send(p.delivery);
  EXPECT_EQ(refused.outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(refused.answer.rfind("HTTP 401: ", 0), 0u) << refused.answer;
  EXPECT_NE(refused.answer.find("authorization grant is invalid"), std::string::npos);

  standin.ForceNext({{400, R"({"errors":[{"message":"The from address does not match a verified Sender Identity.",)"
                           R"("field":"from","help":null}]})"},
                     {413, "payload too large"}});
  auto rejected = Transport(standin).Send(p.delivery);
  EXPECT_EQ(rejected.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(rejected.answer.find("verified Sender Identity"), std::string::npos) << rejected.answer;
  EXPECT_EQ(Transport(standin).Send(p.delivery).outcome, DeliveryOutcome::kPermanent);
}

TEST(SendGridTransport, TimeoutsAndRefusedConnectionsAreTemporaryAndRefusedTargetsPermanent) {
  SendGridStandIn standin(kKey);
  standin.ForceNext({{202, "", {}, 1500ms}});
  SendGridOptions options{kKey, standin.base_url(), 1000ms, 300ms};
  Prepared p(Basic());
  auto slow = SendGridTransport(options, LoopbackClient()).Send(p.delivery);
  EXPECT_EQ(slow.outcome, DeliveryOutcome::kTemporary);
  EXPECT_NE(slow.answer.find("timed out"), std::string::npos) << slow.answer;

  std::string closed;
  {
    net::testing::HttpReceiver gone;
    closed = "http://127.0.0.1:" + std::to_string(gone.port());
  }
  options.base_url = closed;
  auto down = SendGridTransport(options, LoopbackClient()).Send(p.delivery);
  EXPECT_EQ(down.outcome, DeliveryOutcome::kTemporary) << down.answer;

  // The default policy (public addresses only) refuses loopback: the account's settings are wrong.
  options.base_url = standin.base_url();
  auto refused = SendGridTransport(options, net::HttpClient({"Poste-Test/1", net::TargetPolicy()})).Send(p.delivery);
  EXPECT_EQ(refused.outcome, DeliveryOutcome::kPermanent);
  options.base_url = "ftp://api.sendgrid.com";
  EXPECT_EQ(SendGridTransport(options, LoopbackClient()).Send(p.delivery).outcome, DeliveryOutcome::kPermanent);
}

TEST(SendGridTransport, OversizedOrMalformedAnswersNeverCrash) {
  SendGridStandIn standin(kKey);
  std::string garbage(1 << 20, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 131 + 7) % 256);
  standin.ForceNext({{500, garbage},
                     {400, "bad\r\n\x01\xc3\x28\xe2\x82 end \xc2\x85 \xf0\x9f\x98"},
                     {202,
                      "not json at all",
                      {{"X-Message-Id",
                        "id\twith\x01"
                        "controls"}}},
                     {202, ""}});
  Prepared p(Basic());
  auto transport = Transport(standin);
  auto huge = transport.Send(p.delivery);
  EXPECT_EQ(huge.outcome, DeliveryOutcome::kTemporary);
  EXPECT_LE(huge.answer.size(), kMaxAnswer + 3);
  EXPECT_TRUE(validate::IsValidUtf8(huge.answer));
  EXPECT_FALSE(validate::HasControlChars(huge.answer, false));

  auto broken = transport.Send(p.delivery);
  EXPECT_EQ(broken.outcome, DeliveryOutcome::kPermanent);
  EXPECT_TRUE(validate::IsValidUtf8(broken.answer)) << broken.answer;
  EXPECT_FALSE(validate::HasControlChars(broken.answer, false)) << broken.answer;
  EXPECT_EQ(broken.answer.rfind("HTTP 400: bad ", 0), 0u) << broken.answer;

  auto odd_id = transport.Send(p.delivery);
  EXPECT_EQ(odd_id.outcome, DeliveryOutcome::kSent);
  EXPECT_EQ(odd_id.provider_message_id, "id with controls");
  auto no_id = transport.Send(p.delivery);
  EXPECT_EQ(no_id.outcome, DeliveryOutcome::kSent);
  EXPECT_EQ(no_id.provider_message_id, "");
}

TEST(SendGridTransport, CheckReportsWhetherTheKeyMaySend) {
  SendGridStandIn standin(kKey);
  auto ok = Transport(standin).Check();
  EXPECT_EQ(ok.outcome, DeliveryOutcome::kSent) << ok.answer;
  EXPECT_NE(ok.answer.find("mail.send"), std::string::npos);
  EXPECT_EQ(standin.receiver().Requests().at(0).target, "/v3/scopes");
  EXPECT_EQ(standin.receiver().Requests().at(0).method, "GET");

  SendGridStandIn read_only(kKey, {"user.profile.read", "stats.read"});
  auto lacking = Transport(read_only).Check();
  EXPECT_EQ(lacking.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(lacking.answer.find("lacks the mail.send scope"), std::string::npos) << lacking.answer;

  auto bad_key = Transport(standin, "SG.nope").Check();
  EXPECT_EQ(bad_key.outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(bad_key.answer.rfind("HTTP 401", 0), 0u);

  standin.receiver().Script({{200, "{\"scopes\": \"mail.send\"}"}, {200, "<html>"}, {502, "bad gateway"}});
  auto transport = Transport(standin);
  EXPECT_EQ(transport.Check().outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(transport.Check().outcome, DeliveryOutcome::kTemporary);
  auto gateway = transport.Check();
  EXPECT_EQ(gateway.outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(gateway.answer, "HTTP 502: bad gateway");
}

// The stand-in itself refuses what SendGrid refuses (else the tests above would prove little).
TEST(SendGridStandIn, RefusesBodiesThatBreakThePublishedSchema) {
  const json good = json::parse(R"({
    "personalizations":[{"to":[{"email":"a@example.org","name":"\"Doe, A\""}]}],
    "from":{"email":"f@example.com"},"subject":"s",
    "content":[{"type":"text/plain","value":"t"},{"type":"text/html","value":"<p>h</p>"}],
    "attachments":[{"content":"aGk=","filename":"a.txt","type":"text/plain","disposition":"attachment"}],
    "headers":{"Message-ID":"<x@example.com>"}})");
  EXPECT_TRUE(SendGridStandIn::CheckMailBody(good).empty());
  auto broken = [&](const char* pointer, json value) {
    json b = good;
    if (value.is_null()) {
      json::json_pointer ptr(pointer);
      b[ptr.parent_pointer()].erase(ptr.back());
    } else {
      b[json::json_pointer(pointer)] = value;
    }
    return SendGridStandIn::CheckMailBody(b);
  };
  EXPECT_FALSE(broken("/personalizations/0/to", json::array()).empty());
  EXPECT_FALSE(broken("/personalizations/0/cc", json::parse(R"([{"email":"A@example.org"}])")).empty());
  EXPECT_FALSE(broken("/personalizations/0/to/0/name", "Doe, A").empty());
  EXPECT_FALSE(broken("/personalizations/0/to/0/email", "not-an-address").empty());
  EXPECT_FALSE(
      broken("/content", json::parse(R"([{"type":"text/html","value":"h"},{"type":"text/plain","value":"t"}])"))
          .empty());
  EXPECT_FALSE(broken("/content/0/value", "").empty());
  EXPECT_FALSE(broken("/attachments/0/content", "not base64!").empty());
  EXPECT_FALSE(broken("/attachments/0/disposition", "inline").empty());
  EXPECT_FALSE(broken("/headers/To", "x@example.org").empty());
  EXPECT_FALSE(broken("/headers/X-Utf8", "Grüße").empty());
  EXPECT_FALSE(broken("/subject", nullptr).empty());
  EXPECT_FALSE(broken("/from", nullptr).empty());
  EXPECT_FALSE(broken("/unknown_field", 1).empty());
}

}  // namespace
}  // namespace poste::mail

namespace poste::mail {
namespace {

// Delivery::on_commit runs right before the request; "no" withdraws the message and nothing is sent.
TEST(SendGridTransport, OnCommitRunsBeforeTheRequestAndCanWithdrawTheMessage) {
  SendGridStandIn standin(kKey);
  Prepared kept(Basic());
  int calls = 0;
  kept.delivery.on_commit = [&] { return ++calls, standin.receiver().Requests().empty(); };
  EXPECT_EQ(Transport(standin).Send(kept.delivery).outcome, DeliveryOutcome::kSent);
  EXPECT_EQ(calls, 1);
  Prepared withdrawn(Basic());
  withdrawn.delivery.on_commit = [&] { return ++calls, false; };
  auto result = Transport(standin).Send(withdrawn.delivery);
  EXPECT_EQ(result.outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(result.answer, "withdrawn before sending");
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(standin.receiver().Requests().size(), 1u);
}

}  // namespace
}  // namespace poste::mail
