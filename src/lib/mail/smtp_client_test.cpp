// SMTP delivery against the real SMTP capture server of scripts/test-services (POSTE_TEST_SMTP_HOST/PORT,
// captured files in POSTE_TEST_SMTP_CAPTURE_DIR): messages arrive intact and are parsed back, a batch uses
// one connection, 4xx / 5xx answers map to temporary / permanent with the server's exact text, a closed port
// is temporary, and the target policy refuses loopback unless listed.
#include "lib/mail/smtp_client.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "lib/ids.hpp"
#include "lib/mail/mime.hpp"
#include "lib/mail/mime_parse.hpp"
#include "lib/mail/smtp_wire.hpp"
#include "lib/mail/testing/scripted_smtp_server.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "lib/net/testing/loopback.hpp"

namespace poste::mail {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

SmtpOptions CaptureOptions() {
  SmtpOptions o;
  o.host = Env("POSTE_TEST_SMTP_HOST");
  o.port = static_cast<std::uint16_t>(std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str()));
  o.tls = SmtpTls::kNone;
  o.policy = SmtpTargetPolicy({"127.0.0.1"});
  o.helo_name = "poste.test";
  return o;
}

int ClosedPort() { return net::testing::ClosedLoopbackPort(); }

struct Sample {
  OutgoingMessage message;
  BuiltMessage built;
  Delivery delivery;
  std::string token;

  explicit Sample(std::vector<std::string> to) {
    token = "tok" + RandomHex(8);
    message.from = {"Poste Test", "sender@poste.test"};
    for (auto& t : to) message.to.push_back({"", t});
    message.subject = "Été " + token;
    message.text = "Hello\n.\nA line that starts with a dot above. " + token;
    message.html = "<p>Hello <b>world</b> " + token + "</p>";
    built = BuildMessage(message);
    delivery.message = &message;
    delivery.built = &built;
    delivery.envelope_from = "sender@poste.test";
    delivery.recipients = EnvelopeRecipients(message);
  }
};

class SmtpClient : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
  }
};

TEST_F(SmtpClient, DeliversAMessageThatParsesBackIntact) {
  SmtpOptions options = CaptureOptions();
  options.auth = SmtpAuth::kPlain;
  options.username = "user-" + RandomHex(4);
  options.password = "secret";
  SmtpTransport smtp(options);
  Sample sample({"ada@example.com", "bob@example.org"});
  auto r = smtp.Send(sample.delivery);
  ASSERT_EQ(r.outcome, DeliveryOutcome::kSent) << r.answer;
  EXPECT_EQ(r.answer, "250 Message accepted for delivery");
  EXPECT_TRUE(r.refused_recipients.empty());
  auto eml = testing::SmtpCapture().First(sample.token).eml;
  ASSERT_FALSE(eml.empty());
  auto parsed = ParseMessage(eml);
  EXPECT_EQ(parsed.subject, sample.message.subject);
  EXPECT_EQ(parsed.message_id, sample.built.message_id.substr(1, sample.built.message_id.size() - 2));
  ASSERT_EQ(parsed.to.size(), 2u);
  EXPECT_EQ(parsed.to[1].email, "bob@example.org");
  EXPECT_NE(parsed.text.find("\n.\nA line that starts with a dot"), std::string::npos) << parsed.text;
  EXPECT_NE(parsed.html.find("<b>world</b>"), std::string::npos);
}

TEST_F(SmtpClient, ABatchReusesOneConnection) {
  SmtpTransport smtp(CaptureOptions());
  for (int i = 0; i < 5; ++i) {
    Sample sample({"batch" + std::to_string(i) + "@example.com"});
    auto r = smtp.Send(sample.delivery);
    ASSERT_EQ(r.outcome, DeliveryOutcome::kSent) << r.answer;
  }
  EXPECT_EQ(smtp.connections(), 1);
  // A second transport opens its own.
  SmtpTransport other(CaptureOptions());
  Sample sample({"other@example.com"});
  EXPECT_EQ(other.Send(sample.delivery).outcome, DeliveryOutcome::kSent);
  EXPECT_EQ(other.connections(), 1);
}

TEST_F(SmtpClient, FourXxIsTemporaryAndFiveXxPermanentWithTheExactAnswer) {
  SmtpTransport smtp(CaptureOptions());
  Sample temp({"tempfail-x@example.com"});
  auto r = smtp.Send(temp.delivery);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(r.answer, "451 4.3.0 Temporary failure requested by the capture server");
  Sample perm({"reject-x@example.com"});
  r = smtp.Send(perm.delivery);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(r.answer, "550 5.1.1 Recipient rejected by the capture server");
  // The transport still delivers after the refusals, on the same connection (RSET ends a refused
  // transaction; nothing needs a new connection).
  Sample ok({"fine@example.com"});
  r = smtp.Send(ok.delivery);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kSent) << r.answer;
  EXPECT_EQ(smtp.connections(), 1);
}

TEST_F(SmtpClient, OneRefusedRecipientDoesNotStopTheOthers) {
  SmtpTransport smtp(CaptureOptions());
  Sample sample({"reject-one@example.com", "kept@example.com"});
  auto r = smtp.Send(sample.delivery);
  ASSERT_EQ(r.outcome, DeliveryOutcome::kSent) << r.answer;
  ASSERT_EQ(r.refused_recipients.size(), 1u);
  EXPECT_EQ(r.refused_recipients[0], "reject-one@example.com");
  EXPECT_FALSE(testing::SmtpCapture().First(sample.token).eml.empty());
}

TEST_F(SmtpClient, OnCommitRunsOnceBeforeTheEndOfDataAndCanWithdraw) {
  SmtpTransport smtp(CaptureOptions());
  Sample kept({"kept-commit@example.com"});
  int calls = 0;
  kept.delivery.on_commit = [&] { return ++calls, true; };
  ASSERT_EQ(smtp.Send(kept.delivery).outcome, DeliveryOutcome::kSent);
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(testing::SmtpCapture().First(kept.token).eml.empty());
  // Once per message on a reused connection too (libcurl, knowing the size, does not ask for an EOF).
  for (int i = 0; i < 3; ++i) {
    Sample again({"kept-commit-" + std::to_string(i) + "@example.com"});
    again.delivery.on_commit = [&] { return ++calls, true; };
    ASSERT_EQ(smtp.Send(again.delivery).outcome, DeliveryOutcome::kSent);
  }
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(smtp.connections(), 1);
  calls = 1;

  Sample withdrawn({"withdrawn@example.com"});
  withdrawn.delivery.on_commit = [&] { return ++calls, false; };
  auto r = smtp.Send(withdrawn.delivery);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kTemporary) << r.answer;
  EXPECT_EQ(calls, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(testing::SmtpCapture().Count(withdrawn.token), 0u) << "a withdrawn message must not arrive";
  // Refused at RCPT: never reaches the point of no return.
  Sample refused({"reject-commit@example.com"});
  refused.delivery.on_commit = [&] { return ++calls, true; };
  EXPECT_EQ(smtp.Send(refused.delivery).outcome, DeliveryOutcome::kPermanent);
  EXPECT_EQ(calls, 2);
}

TEST_F(SmtpClient, AClosedPortIsTemporary) {
  SmtpOptions options = CaptureOptions();
  options.port = static_cast<std::uint16_t>(ClosedPort());
  options.connect_timeout = std::chrono::milliseconds(2000);
  SmtpTransport smtp(options);
  Sample sample({"down@example.com"});
  auto r = smtp.Send(sample.delivery);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(r.answer, "could not connect to 127.0.0.1:" + std::to_string(options.port));
  EXPECT_EQ(smtp.Check().outcome, DeliveryOutcome::kTemporary);
}

TEST_F(SmtpClient, CheckAuthenticatesAndReportsTheAnswer) {
  SmtpOptions options = CaptureOptions();
  options.auth = SmtpAuth::kLogin;
  options.username = "checker";
  options.password = "pw";
  SmtpTransport smtp(options);
  auto r = smtp.Check();
  EXPECT_EQ(r.outcome, DeliveryOutcome::kSent) << r.answer;
  EXPECT_TRUE(r.answer.starts_with("250")) << r.answer;
}

TEST_F(SmtpClient, StartTlsRequiredButNotOfferedIsPermanent) {
  SmtpOptions options = CaptureOptions();
  options.tls = SmtpTls::kStartTls;
  SmtpTransport smtp(options);
  auto r = smtp.Check();
  EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent) << r.answer;
  EXPECT_FALSE(r.answer.empty());
}

TEST_F(SmtpClient, LoopbackAndMetadataAreRefusedUnlessListed) {
  for (const char* host : {"127.0.0.1", "169.254.169.254", "::1", "0.0.0.0"}) {
    SmtpOptions options = CaptureOptions();
    options.host = host;
    options.policy = SmtpTargetPolicy();
    SmtpTransport smtp(options);
    Sample sample({"x@example.com"});
    auto r = smtp.Send(sample.delivery);
    EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent) << host;
    EXPECT_NE(r.answer.find("may not reach"), std::string::npos) << r.answer;
    EXPECT_EQ(smtp.connections(), 0);
  }
  auto policy = SmtpTargetPolicy();
  EXPECT_TRUE(policy.AddressAllowed(*net::IpAddress::Parse("192.168.1.20")));
  EXPECT_TRUE(policy.AddressAllowed(*net::IpAddress::Parse("10.1.2.3")));
  EXPECT_TRUE(policy.AddressAllowed(*net::IpAddress::Parse("8.8.8.8")));
  EXPECT_FALSE(policy.AddressAllowed(*net::IpAddress::Parse("127.0.0.1")));
}

// A server that answers RCPT with NUL, bytes beyond ASCII, escape sequences and a 5000-byte line.
class HostileServer {
 public:
  HostileServer() {
    fd_ = net::testing::BindLoopback(port_, 1);
    thread_ = std::thread([this] { Serve(); });
  }
  ~HostileServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void Serve() {
    const int c = ::accept(fd_, nullptr, nullptr);
    if (c < 0) return;
    auto say = [&](const std::string& line) { (void)!::write(c, line.data(), line.size()); };
    say("220 hostile ESMTP\r\n");
    std::string buffer;
    char chunk[4096];
    while (true) {
      const auto n = ::read(c, chunk, sizeof chunk);
      if (n <= 0) break;
      buffer.append(chunk, static_cast<std::size_t>(n));
      std::size_t eol;
      while ((eol = buffer.find("\r\n")) != std::string::npos) {
        const std::string command = buffer.substr(0, eol);
        buffer.erase(0, eol + 2);
        if (command.starts_with("EHLO"))
          say("250 hostile\r\n");
        else if (command.starts_with("MAIL"))
          say("250 ok\r\n");
        else if (command.starts_with("RCPT"))
          say(std::string("550 5.7.1 \0\xff\x1b[31m evil ", 20) + std::string(5000, 'A') + "\r\n");
        else if (command.starts_with("QUIT")) {
          say("221 bye\r\n");
          break;
        } else
          say("500 what\r\n");
      }
    }
    ::close(c);
  }
  int fd_ = -1, port_ = 0;
  std::thread thread_;
};

TEST_F(SmtpClient, AHostileAnswerIsKeptPrintableAndBounded) {
  HostileServer server;
  SmtpOptions options = CaptureOptions();
  options.port = static_cast<std::uint16_t>(server.port());
  SmtpTransport smtp(options);
  Sample sample({"x@example.com"});
  auto r = smtp.Send(sample.delivery);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent);
  EXPECT_TRUE(r.answer.starts_with("550 5.7.1 ??")) << r.answer.substr(0, 40);
  EXPECT_LE(r.answer.size(), 998u);
  EXPECT_TRUE(std::all_of(r.answer.begin(), r.answer.end(), [](char c) { return c >= 0x20 && c < 0x7F; }));
}

// A server that offers PIPELINING (testing/scripted_smtp_server.hpp) records what arrives in each read: MAIL,
// RCPT and DATA must come in one write, the message and its "." in another.
TEST_F(SmtpClient, PipelinesMailRcptAndDataInOneWrite) {
  testing::ScriptedSmtpServer server;
  SmtpOptions options = CaptureOptions();
  options.port = static_cast<std::uint16_t>(server.port());
  {
    SmtpTransport smtp(options);
    for (int i = 0; i < 3; ++i) {
      Sample sample({"a@example.com", "b@example.com"});
      const auto r = smtp.Send(sample.delivery);
      ASSERT_EQ(r.outcome, DeliveryOutcome::kSent) << r.answer;
      EXPECT_EQ(r.provider_message_id, "Q" + std::to_string(i + 1));
    }
    EXPECT_EQ(smtp.connections(), 1);
  }
  EXPECT_EQ(server.messages().size(), 3u);
  int grouped = 0;
  const auto reads = server.reads();
  ASSERT_EQ(reads.size(), 1u);
  for (const auto& read : reads[0]) {
    if (read.starts_with("MAIL FROM:")) {
      EXPECT_EQ(read.find("MAIL FROM:"), 0u);
      EXPECT_NE(read.find("RCPT TO:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"), std::string::npos) << read;
      ++grouped;
    }
  }
  EXPECT_EQ(grouped, 3);
}

TEST_F(SmtpClient, AConnectionTheServerClosedIsOpenedAgain) {
  testing::ScriptedSmtpServer::Script script;
  script.close_after = 1;  // the first connection is closed after its first message, as with an idle client
  testing::ScriptedSmtpServer server(script);
  SmtpOptions options = CaptureOptions();
  options.port = static_cast<std::uint16_t>(server.port());
  SmtpTransport smtp(options);
  for (int i = 0; i < 3; ++i) {
    Sample sample({"a@example.com"});
    const auto r = smtp.Send(sample.delivery);
    ASSERT_EQ(r.outcome, DeliveryOutcome::kSent) << i << ": " << r.answer;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the close arrives before the next send
  }
  EXPECT_EQ(server.messages().size(), 3u);
  EXPECT_EQ(smtp.connections(), 2);  // the server closed only the first
}

TEST(SmtpDotStuffing, DoublesLeadingDotsAndEndsWithTheTerminator) {
  const auto DotStuffed = [](std::string_view message) {
    std::string out;
    AppendDotStuffed(out, message);
    return out;
  };
  EXPECT_EQ(DotStuffed("a\r\n.b\r\n..c\r\n"), "a\r\n..b\r\n...c\r\n.\r\n");
  EXPECT_EQ(DotStuffed(".start"), "..start\r\n.\r\n");
  EXPECT_EQ(DotStuffed("no end"), "no end\r\n.\r\n");
  EXPECT_EQ(DotStuffed("a.\r\n.\r\n"), "a.\r\n..\r\n.\r\n");  // a lone "." line cannot end the data
  std::string out = "MAIL FROM:<a@b>\r\n";                    // appended after what the write already holds
  AppendDotStuffed(out, ".x\n.y");
  EXPECT_EQ(out, "MAIL FROM:<a@b>\r\n..x\n..y\r\n.\r\n");
}

TEST(SmtpQueueId, FromTheDataAnswer) {
  EXPECT_EQ(QueueIdOf("250 2.0.0 Ok: queued as 4F3A1B"), "4F3A1B");
  EXPECT_EQ(QueueIdOf("250 OK id=1 queued as abc-12.x <junk>"), "abc-12.x");
  EXPECT_EQ(QueueIdOf("250 Message accepted for delivery"), "");
}

}  // namespace
}  // namespace poste::mail
