#include "modules/mail/mail_transport.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "lib/ids.hpp"
#include "lib/mail/mime.hpp"
#include "lib/mail/oauth2.hpp"
#include "lib/mail/smtp_client.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "lib/mail/testing/tls_services.hpp"
#include "modules/mail/outbox_transport.hpp"

namespace poste::mail {
namespace {

Account Of(const std::string& type) {
  Account a;
  a.id = 3;
  a.site_id = 7;
  a.type = type;
  a.from = {"", "me@example.com"};
  return a;
}

TEST(MailTransport, EachTypeMapsToItsTransport) {
  TransportSettings settings;
  settings.outbox_root = "/tmp/poste-outbox-root";
  auto outbox = MakeTransport(Of("outbox"), settings);
  ASSERT_NE(dynamic_cast<OutboxTransport*>(outbox.get()), nullptr);
  EXPECT_EQ(dynamic_cast<OutboxTransport*>(outbox.get())->dir(), "/tmp/poste-outbox-root/7");
  auto smtp = Of("smtp");
  smtp.settings = {{"host", "smtp.example.com"}};
  EXPECT_NE(dynamic_cast<SmtpTransport*>(MakeTransport(smtp, settings).get()), nullptr);
  for (const char* type : {"sendgrid", "ses", "gmail", "outlook"}) {
    auto r = MakeTransport(Of(type), settings)->Check();
    EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent) << type;
    EXPECT_EQ(r.answer, std::string("the ") + type + " account type is not available yet");
  }
}

TEST(MailTransport, ProviderHooksPlugIn) {
  TransportSettings settings;
  int built = 0;
  settings.sendgrid = [&](const Account& a) {
    ++built;
    EXPECT_EQ(a.type, "sendgrid");
    return std::make_unique<OutboxTransport>("/nonexistent/never-used");
  };
  auto t = MakeTransport(Of("sendgrid"), settings);
  EXPECT_EQ(built, 1);
  EXPECT_NE(dynamic_cast<OutboxTransport*>(t.get()), nullptr);
  // Gmail: XOAUTH2 over SMTP with a token from the hook; a token endpoint that fails is a temporary failure.
  settings.oauth_access_token = [](const Account&, bool) -> std::string { throw std::runtime_error("invalid_grant"); };
  auto gmail = Of("gmail");
  gmail.settings = {{"username", "me@gmail.com"}};
  auto r = MakeTransport(gmail, settings)->Check();
  EXPECT_EQ(r.outcome, DeliveryOutcome::kTemporary);
  EXPECT_EQ(r.answer, "the OAuth2 token could not be refreshed: invalid_grant");
  // A grant the provider revoked fails at once (the account must be connected again), and the hook is
  // asked for a cached token first.
  std::vector<bool> fresh;
  settings.oauth_access_token = [&](const Account&, bool f) -> std::string {
    fresh.push_back(f);
    throw OAuth2Error(OAuth2ErrorKind::kReconnect, "invalid_grant", "Token has been expired or revoked.");
  };
  r = MakeTransport(gmail, settings)->Check();
  EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent) << r.answer;
  EXPECT_EQ(fresh, std::vector<bool>{false});
}

// --- Gmail / Outlook over SMTP with XOAUTH2, against the capture server of scripts/test-services (its STARTTLS
// port plays smtp.gmail.com: XOAUTH2 checked strictly, the first token of an "expired-" user refused the way
// Google refuses one).

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

struct Sample {
  OutgoingMessage message;
  BuiltMessage built;
  Delivery delivery;
  std::string token = "xoauth" + RandomHex(8);

  explicit Sample(const std::string& from) {
    message.from = {"Team", from};
    message.to = {{"Ada", "ada@example.com"}};
    message.subject = "Through the provider " + token;
    message.text = "Hello " + token;
    built = BuildMessage(message);
    delivery.message = &message;
    delivery.built = &built;
    delivery.envelope_from = from;
    delivery.recipients = EnvelopeRecipients(message);
  }
};

class OAuthSmtp : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    POSTE_REQUIRE_TLS_SERVICES(tls_);
    settings_.smtp_policy = SmtpTargetPolicy({"127.0.0.1"});
    settings_.tls_ca_file = tls_.ca_file;
    settings_.helo_name = "poste.test";
    settings_.smtp_connect_timeout = std::chrono::milliseconds(5000);
    // The hook answers `token_` for a cached token and `fresh_token_` when asked for a fresh one.
    settings_.oauth_access_token = [this](const Account& a, bool fresh) {
      EXPECT_EQ(a.id, 3);
      asked_.push_back(fresh);
      return fresh ? fresh_token_ : token_;
    };
  }

  // A Gmail / Outlook account `user` whose SMTP server is the capture server on `port`.
  static Account Provider(const std::string& type, const std::string& user, int port) {
    Account a = Of(type);
    a.settings = {{"username", user}, {"client_id", "client-1"}, {"smtp_host", "127.0.0.1"}, {"smtp_port", port}};
    return a;
  }
  static std::string User(const std::string& prefix) { return prefix + RandomHex(6) + "@gmail.com"; }

  mail::testing::TlsServices tls_;
  TransportSettings settings_;
  std::string token_ = "ya29.cached-" + RandomHex(8), fresh_token_ = "ya29.fresh-" + RandomHex(8);
  std::vector<bool> asked_;
};

TEST_F(OAuthSmtp, GmailAndOutlookSendWithXoauth2ThroughTheirSmtpHost) {
  for (const char* type : {"gmail", "outlook"}) {
    asked_.clear();
    const std::string user = User(std::string(type) + "-");
    auto transport = MakeTransport(Provider(type, user, tls_.smtp_starttls_port), settings_);
    const auto check = transport->Check();
    EXPECT_EQ(check.outcome, DeliveryOutcome::kSent) << type << ": " << check.answer;
    Sample sample(user);
    const auto r = transport->Send(sample.delivery);
    ASSERT_EQ(r.outcome, DeliveryOutcome::kSent) << type << ": " << r.answer;
    const auto envelope = mail::testing::SmtpCapture().First(sample.token).envelope;
    ASSERT_TRUE(envelope.is_object()) << type << ": not captured";
    EXPECT_EQ(envelope["auth_mechanism"], "XOAUTH2") << envelope.dump();
    EXPECT_EQ(envelope["auth_user"], user);
    EXPECT_EQ(envelope["auth_token"], token_);
    EXPECT_EQ(envelope["tls"], true) << "STARTTLS before AUTH";
    EXPECT_EQ(envelope["port"], tls_.smtp_starttls_port);
    EXPECT_EQ(asked_, std::vector<bool>{false}) << type << ": one cached token for the check and the send";
  }
}

TEST_F(OAuthSmtp, ARefusedTokenIsReplacedByAFreshOneOnce) {
  // The server refuses the first token of an "expired-" user (334 with Google's JSON, then 535): the
  // transport asks the hook for a fresh token and sends with it on a new connection.
  const std::string user = User("expired-");
  Sample sample(user);
  const auto r = MakeTransport(Provider("gmail", user, tls_.smtp_starttls_port), settings_)->Send(sample.delivery);
  ASSERT_EQ(r.outcome, DeliveryOutcome::kSent) << r.answer;
  EXPECT_EQ(asked_, (std::vector<bool>{false, true}));
  const auto envelope = mail::testing::SmtpCapture().First(sample.token).envelope;
  ASSERT_TRUE(envelope.is_object()) << "not captured";
  EXPECT_EQ(envelope["auth_user"], user);
  EXPECT_EQ(envelope["auth_token"], fresh_token_);

  // A "fresh" token that is refused too ends the send with the server's answer: no third try.
  asked_.clear();
  fresh_token_ = token_;
  const std::string stale = User("expired-");
  Sample again(stale);
  const auto refused =
      MakeTransport(Provider("outlook", stale, tls_.smtp_starttls_port), settings_)->Send(again.delivery);
  EXPECT_EQ(refused.outcome, DeliveryOutcome::kPermanent) << refused.answer;
  EXPECT_EQ(refused.answer, "535 5.7.8 Username and Password not accepted");
  EXPECT_EQ(asked_, (std::vector<bool>{false, true}));
  EXPECT_TRUE(mail::testing::SmtpCapture().First(again.token, std::chrono::milliseconds(300)).envelope.is_null())
      << "delivered anyway";
}

TEST_F(OAuthSmtp, StartTlsIsRequiredAndTheSmtpPolicyDecidesTheTarget) {
  const std::string user = User("team-");
  // The capture server's plain port offers no STARTTLS: the token is not sent in the clear.
  Sample plain(user);
  auto r = MakeTransport(Provider("gmail", user, std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str())), settings_)
               ->Send(plain.delivery);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(r.answer.find("does not offer STARTTLS"), std::string::npos) << r.answer;
  // Loopback is reached only when mail.smtp_allow_targets lists it, as for SMTP accounts.
  settings_.smtp_policy = SmtpTargetPolicy();
  Sample loopback(user);
  r = MakeTransport(Provider("outlook", user, tls_.smtp_starttls_port), settings_)->Send(loopback.delivery);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(r.answer.find("which mail accounts may not reach (see mail.smtp_allow_targets)"), std::string::npos)
      << r.answer;
  // The server's certificate is checked (here against the system's store only).
  settings_.smtp_policy = SmtpTargetPolicy({"127.0.0.1"});
  settings_.tls_ca_file.clear();
  Sample untrusted(user);
  r = MakeTransport(Provider("gmail", user, tls_.smtp_starttls_port), settings_)->Send(untrusted.delivery);
  EXPECT_EQ(r.outcome, DeliveryOutcome::kPermanent);
  EXPECT_NE(r.answer.find("is not trusted"), std::string::npos) << r.answer;
  for (const auto* s : {&plain, &loopback, &untrusted}) {
    EXPECT_TRUE(mail::testing::SmtpCapture().First(s->token, std::chrono::milliseconds(200)).envelope.is_null())
        << "delivered anyway";
  }
}

}  // namespace
}  // namespace poste::mail
