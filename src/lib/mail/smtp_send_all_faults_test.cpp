// SmtpTransport::SendAll against hostile and absent servers (clear temporary results, never a hang past the
// timeout) and against the real capture server of scripts/test-services (which does not pipeline: lockstep),
// over plain TCP, STARTTLS and implicit TLS.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "lib/ids.hpp"
#include "lib/mail/smtp_client.hpp"
#include "lib/mail/testing/send_all_source.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "lib/mail/testing/tls_services.hpp"

namespace poste::mail {
namespace {

using namespace poste::mail::testing;

class SmtpSendAllHostile : public SmtpSendAll {};

// Hostile servers: the first connection misbehaves once; the results say so in words, and the messages
// after it go on a new connection.
void ExpectHostileHandled(const TestSource& source, const ScriptedSmtpServer& server, const SmtpTransport& smtp,
                          const std::string& words) {
  ExpectOneDoneEach(source);
  const auto& first = source.result(0);
  EXPECT_EQ(first.outcome, DeliveryOutcome::kTemporary) << first.answer;
  EXPECT_NE(first.answer.find(words), std::string::npos) << first.answer;
  EXPECT_NE(first.answer.find("127.0.0.1:" + std::to_string(server.port())), std::string::npos) << first.answer;
  EXPECT_LE(first.answer.size(), 998u);
  // The message pipelined behind it shares its fate; every later one is sent.
  for (std::size_t i = 1; i < source.size(); ++i) {
    const auto& r = source.result(i);
    if (i == 1 && r.outcome == DeliveryOutcome::kTemporary) {
      EXPECT_EQ(r.answer, first.answer);
      continue;
    }
    EXPECT_EQ(r.outcome, DeliveryOutcome::kSent) << i << ": " << r.answer;
  }
  EXPECT_EQ(smtp.connections(), 2);
}

TEST_P(SmtpSendAllHostile, AReplyOf70KbEndsTheConnectionWithWords) {
  TestSource source;
  source.AddMany(4);
  auto script = Script();
  script.answer = [](const std::string& command, const Envelope& e, const std::string&) -> std::optional<Reply> {
    if (e.connection == 0 && command.starts_with("MAIL FROM:")) return Reply::Say("250 " + std::string(70 * 1024, 'x'));
    return std::nullopt;
  };
  ScriptedSmtpServer server(Checked(script, source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 1);
  ExpectHostileHandled(source, server, smtp, "too long");
  ExpectServerAgrees(source, server);
}

TEST_P(SmtpSendAllHostile, ALineThatIsNotSmtpEndsTheConnectionWithWords) {
  TestSource source;
  source.AddMany(4);
  auto script = Script();
  script.answer = [](const std::string& command, const Envelope& e, const std::string&) -> std::optional<Reply> {
    if (e.connection == 0 && command == ".") return Reply::Say("HTTP/1.1 400 Bad Request\x1b[2J");
    return std::nullopt;
  };
  ScriptedSmtpServer server(Checked(script, source));
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 1);
  ExpectHostileHandled(source, server, smtp, "not an SMTP reply: HTTP/1.1 400 Bad Request?[2J");
}

TEST_P(SmtpSendAllHostile, AServerThatStopsAnsweringTimesOut) {
  TestSource source;
  source.AddMany(4);
  auto script = Script();
  script.answer = [](const std::string& command, const Envelope& e, const std::string&) -> std::optional<Reply> {
    if (e.connection == 0 && command == ".") return Reply::Stall();
    return std::nullopt;
  };
  ScriptedSmtpServer server(Checked(script, source));
  auto options = LoopbackOptions(server.port());
  options.total_timeout = std::chrono::milliseconds(300);
  SmtpTransport smtp(options);
  const auto t0 = std::chrono::steady_clock::now();
  smtp.SendAll(source, 1);
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::seconds(3)) << "a stalled server held SendAll beyond its timeout";
  EXPECT_GE(took, std::chrono::milliseconds(300));
  ExpectHostileHandled(source, server, smtp, "timed out");
}

INSTANTIATE_TEST_SUITE_P(Modes, SmtpSendAllHostile, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Pipelining" : "Lockstep"; });

TEST(SmtpSendAllDown, NothingListeningMakesEveryDeliveryTemporary) {
  TestSource source;
  source.AddMany(5);
  auto options = LoopbackOptions(ClosedPort());
  SmtpTransport smtp(options);
  smtp.SendAll(source, 3);
  ExpectOneDoneEach(source);
  EXPECT_EQ(source.handed(), source.size());
  for (std::size_t i = 0; i < source.size(); ++i) {
    EXPECT_EQ(source.result(i).outcome, DeliveryOutcome::kTemporary) << i;
    EXPECT_EQ(source.result(i).answer, "could not connect to 127.0.0.1:" + std::to_string(options.port)) << i;
    EXPECT_EQ(source.committed(i), 0) << i;
  }
  EXPECT_EQ(smtp.connections(), 0);
}

TEST(SmtpSendAllNothing, AnEmptySourceOpensNothing) {
  TestSource source;
  ScriptedSmtpServer server;
  SmtpTransport smtp(LoopbackOptions(server.port()));
  smtp.SendAll(source, 4);
  EXPECT_EQ(smtp.connections(), 0);
  EXPECT_EQ(server.connections(), 0);
}

// --- the real capture server of scripts/test-services (no PIPELINING: lockstep)

class SmtpSendAllCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
  }
  static SmtpOptions Options() {
    auto o = LoopbackOptions(std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str()));
    o.host = Env("POSTE_TEST_SMTP_HOST");
    return o;
  }
  // How many captured messages contain each token, once every token was seen (or after 5 s).
  static std::map<std::string, int> CountCaptured(const std::vector<std::string>& tokens) {
    const SmtpCapture capture;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    for (const auto& t : tokens) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      capture.Matching(t, 1, std::max(left, std::chrono::milliseconds(0)));
    }
    std::map<std::string, int> counts;
    for (const auto& t : tokens) {
      if (const auto n = capture.Count(t); n > 0) counts[t] = static_cast<int>(n);
    }
    return counts;
  }
};

TEST_F(SmtpSendAllCapture, TwelveMessagesOverFourConnectionsArriveOnceEach) {
  TestSource source;
  source.AddMany(12);
  SmtpTransport smtp(Options());
  smtp.SendAll(source, 4);

  ExpectOneDoneEach(source);
  std::vector<std::string> tokens;
  for (std::size_t i = 0; i < source.size(); ++i) {
    const auto& r = source.result(i);
    EXPECT_EQ(r.outcome, DeliveryOutcome::kSent) << i << ": " << r.answer;
    EXPECT_EQ(r.answer, "250 Message accepted for delivery");
    EXPECT_EQ(source.committed(i), 1) << i;
    tokens.push_back(source.sample(i).token);
  }
  const auto counts = CountCaptured(tokens);
  for (const auto& t : tokens) {
    EXPECT_EQ(counts.count(t) ? counts.at(t) : 0, 1) << "captured copies of " << t;
  }
  EXPECT_GE(smtp.connections(), 1);
  EXPECT_LE(smtp.connections(), 4);
}

// TLS (STARTTLS, then implicit): replies are read from OpenSSL's buffer too, not only when poll() sees the
// socket readable.
TEST_F(SmtpSendAllCapture, OverStartTlsAndImplicitTls) {
  testing::TlsServices tls;
  POSTE_REQUIRE_TLS_SERVICES(tls);
  for (const auto& [mode, port] :
       {std::pair{SmtpTls::kStartTls, tls.smtp_starttls_port}, std::pair{SmtpTls::kImplicit, tls.smtps_port}}) {
    TestSource source;
    source.AddMany(4);
    source.AddMany(4, 2000);  // about 140 KB: many TLS records
    auto options = Options();
    options.port = static_cast<std::uint16_t>(port);
    options.tls = mode;
    options.ca_file = tls.ca_file;
    SmtpTransport smtp(options);
    smtp.SendAll(source, 3);

    ExpectOneDoneEach(source);
    std::vector<std::string> tokens;
    for (std::size_t i = 0; i < source.size(); ++i) {
      EXPECT_EQ(source.result(i).outcome, DeliveryOutcome::kSent)
          << port << " " << i << ": " << source.result(i).answer;
      tokens.push_back(source.sample(i).token);
    }
    const auto counts = CountCaptured(tokens);
    for (const auto& t : tokens) EXPECT_EQ(counts.count(t) ? counts.at(t) : 0, 1) << port << " " << t;
    EXPECT_LE(smtp.connections(), 3);
  }
}

TEST_F(SmtpSendAllCapture, RefusedRecipientsAndRefusedMessagesKeepTheConnection) {
  TestSource source;
  const std::string run = RandomHex(4);
  source.Add({"reject-one-" + run + "@example.com", "kept-" + run + "@example.com"});
  source.Add({"reject-only-" + run + "@example.com"});
  source.Add({"tempfail-" + run + "@example.com"});
  source.Add({"after-" + run + "@example.com"});
  SmtpTransport smtp(Options());
  smtp.SendAll(source, 1);

  ExpectOneDoneEach(source);
  EXPECT_EQ(source.result(0).outcome, DeliveryOutcome::kSent) << source.result(0).answer;
  EXPECT_EQ(source.result(0).refused_recipients, std::vector<std::string>{"reject-one-" + run + "@example.com"});
  EXPECT_EQ(source.result(1).outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(source.result(1).answer, "550 5.1.1 Recipient rejected by the capture server");
  EXPECT_EQ(source.result(2).outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(source.result(2).answer, "451 4.3.0 Temporary failure requested by the capture server");
  EXPECT_EQ(source.result(3).outcome, DeliveryOutcome::kSent) << source.result(3).answer;
  EXPECT_EQ(source.committed(1), 0);
  EXPECT_EQ(source.committed(2), 0);
  const auto counts = CountCaptured({source.sample(0).token, source.sample(3).token});
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_EQ(smtp.connections(), 1);
}

}  // namespace
}  // namespace poste::mail
