#include "modules/mail/mail_transport.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "lib/mail/oauth2.hpp"
#include "lib/mail/smtp_client.hpp"
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

}  // namespace
}  // namespace poste::mail
