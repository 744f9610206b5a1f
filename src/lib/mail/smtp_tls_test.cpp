// SMTP over TLS against the capture server of scripts/test-services, whose certificate a throwaway CA signs
// (POSTE_TEST_TLS_CA_FILE): STARTTLS and implicit TLS (SMTPS) deliver, and the capture server records that
// the message came over TLS on that port; a batch keeps its one TLS connection; a certificate the client
// does not trust and STARTTLS demanded from a server that does not offer it fail permanently with an answer
// that says so, and nothing is delivered.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "lib/ids.hpp"
#include "lib/mail/mime.hpp"
#include "lib/mail/mime_parse.hpp"
#include "lib/mail/smtp_client.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "lib/mail/testing/tls_services.hpp"

namespace poste::mail {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

struct Sample {
  OutgoingMessage message;
  BuiltMessage built;
  Delivery delivery;
  std::string token = "tls" + RandomHex(8);

  Sample() {
    message.from = {"Poste Test", "sender@poste.test"};
    message.to = {{"Ada", "ada@example.com"}};
    message.subject = "Chiffré " + token;
    message.text = "Over TLS: " + token;
    built = BuildMessage(message);
    delivery.message = &message;
    delivery.built = &built;
    delivery.envelope_from = "sender@poste.test";
    delivery.recipients = EnvelopeRecipients(message);
  }
};

class SmtpOverTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    POSTE_REQUIRE_TLS_SERVICES(tls_);
  }

  SmtpOptions Options(SmtpTls mode, int port) const {
    SmtpOptions o;
    o.host = "127.0.0.1";
    o.port = static_cast<std::uint16_t>(port);
    o.tls = mode;
    o.policy = SmtpTargetPolicy({"127.0.0.1", "localhost"});
    o.helo_name = "poste.test";
    o.ca_file = tls_.ca_file;
    o.connect_timeout = std::chrono::milliseconds(5000);
    return o;
  }

  // Sends one sample and expects it captured over TLS on `port`.
  void ExpectDeliveredOverTls(const SmtpOptions& options, int port) {
    SmtpTransport smtp(options);
    Sample sample;
    auto r = smtp.Send(sample.delivery);
    ASSERT_EQ(r.outcome, DeliveryOutcome::kSent) << r.answer;
    EXPECT_EQ(r.answer, "250 Message accepted for delivery");
    auto c = testing::SmtpCapture().First(sample.token);
    ASSERT_FALSE(c.eml.empty()) << "not captured";
    EXPECT_EQ(ParseMessage(c.eml).subject, sample.message.subject);
    ASSERT_TRUE(c.envelope.is_object());
    EXPECT_EQ(c.envelope["port"], port);
    EXPECT_EQ(c.envelope["tls"], true);
    EXPECT_TRUE(c.envelope["tls_version"].get<std::string>().starts_with("TLSv1.")) << c.envelope.dump();
  }

  // Expects a permanent failure whose answer holds `why`, and nothing captured.
  void ExpectRefused(const SmtpOptions& options, const std::string& why) {
    SmtpTransport smtp(options);
    Sample sample;
    auto r = smtp.Send(sample.delivery);
    EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent) << r.answer;
    EXPECT_NE(r.answer.find(why), std::string::npos) << r.answer;
    EXPECT_TRUE(testing::SmtpCapture().First(sample.token, std::chrono::milliseconds(300)).eml.empty())
        << "delivered anyway";
    // Check (the account test route) answers the same way.
    auto check = SmtpTransport(options).Check();
    EXPECT_EQ(check.outcome, DeliveryOutcome::kPermanent) << check.answer;
    EXPECT_NE(check.answer.find(why), std::string::npos) << check.answer;
  }

  mail::testing::TlsServices tls_;
};

TEST_F(SmtpOverTls, StartTlsDelivers) {
  ExpectDeliveredOverTls(Options(SmtpTls::kStartTls, tls_.smtp_starttls_port), tls_.smtp_starttls_port);
}

TEST_F(SmtpOverTls, ImplicitTlsDelivers) {
  ExpectDeliveredOverTls(Options(SmtpTls::kImplicit, tls_.smtps_port), tls_.smtps_port);
}

TEST_F(SmtpOverTls, TheHostNameMayBeOneTheCertificateNames) {
  auto o = Options(SmtpTls::kImplicit, tls_.smtps_port);
  o.host = "localhost";  // the certificate names 127.0.0.1 and localhost
  ExpectDeliveredOverTls(o, tls_.smtps_port);
}

TEST_F(SmtpOverTls, ABatchKeepsItsOneTlsConnection) {
  SmtpTransport smtp(Options(SmtpTls::kStartTls, tls_.smtp_starttls_port));
  std::vector<std::string> tokens;
  for (int i = 0; i < 3; ++i) {
    Sample sample;
    ASSERT_EQ(smtp.Send(sample.delivery).outcome, DeliveryOutcome::kSent);
    tokens.push_back(sample.token);
  }
  EXPECT_EQ(smtp.connections(), 1);
  for (const auto& t : tokens) EXPECT_EQ(testing::SmtpCapture().First(t).envelope["tls"], true) << t;
}

TEST_F(SmtpOverTls, AnUntrustedCertificateIsRefusedClearly) {
  // Without the test CA, the system's store does not know who signed the server's certificate.
  auto o = Options(SmtpTls::kImplicit, tls_.smtps_port);
  o.ca_file.clear();
  ExpectRefused(o, "the TLS certificate of 127.0.0.1:" + std::to_string(tls_.smtps_port) + " is not trusted");
  auto s = Options(SmtpTls::kStartTls, tls_.smtp_starttls_port);
  s.ca_file.clear();
  ExpectRefused(s, "is not trusted");
  // A CA bundle that is not the one that signed it: refused too.
  auto other = Options(SmtpTls::kImplicit, tls_.smtps_port);
  other.ca_file = "/etc/ssl/certs/ca-certificates.crt";
  if (std::filesystem::exists(other.ca_file)) ExpectRefused(other, "is not trusted");
  // The switch that turns checks off (never offered to accounts) shows the failure above is the check.
  auto unchecked = Options(SmtpTls::kImplicit, tls_.smtps_port);
  unchecked.ca_file.clear();
  unchecked.verify_tls = false;
  ExpectDeliveredOverTls(unchecked, tls_.smtps_port);
}

TEST_F(SmtpOverTls, StartTlsDemandedFromAServerWithoutItFails) {
  // The capture server's plain port offers no STARTTLS: the account's demand is not quietly dropped.
  const int plain = std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str());
  ExpectRefused(Options(SmtpTls::kStartTls, plain), "does not offer STARTTLS");
}

TEST_F(SmtpOverTls, ImplicitTlsAgainstAPlainServerFails) {
  const int plain = std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str());
  SmtpTransport smtp(Options(SmtpTls::kImplicit, plain));
  Sample sample;
  auto r = smtp.Send(sample.delivery);
  EXPECT_NE(r.outcome, DeliveryOutcome::kSent) << r.answer;
  EXPECT_FALSE(r.answer.empty());
  EXPECT_TRUE(testing::SmtpCapture().First(sample.token, std::chrono::milliseconds(300)).eml.empty());
}

TEST_F(SmtpOverTls, AMissingCaFileIsRefused) {
  auto o = Options(SmtpTls::kImplicit, tls_.smtps_port);
  o.ca_file = "/nonexistent/poste-ca.pem";
  SmtpTransport smtp(o);
  Sample sample;
  auto r = smtp.Send(sample.delivery);
  EXPECT_NE(r.outcome, DeliveryOutcome::kSent) << r.answer;
  EXPECT_TRUE(testing::SmtpCapture().First(sample.token, std::chrono::milliseconds(300)).eml.empty());
}

}  // namespace
}  // namespace poste::mail
