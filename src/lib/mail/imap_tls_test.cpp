// IMAP over TLS against the Dovecot of scripts/test-services, whose certificate a throwaway CA signs
// (POSTE_TEST_TLS_CA_FILE): STARTTLS on the IMAP port and implicit TLS on the IMAPS port sign in and read a
// folder; a certificate the client does not trust fails with a TLS error (kTls) whose text says why, before
// any credentials are sent; implicit TLS against the plain port fails.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "lib/mail/imap_client.hpp"
#include "lib/mail/testing/tls_services.hpp"

namespace poste::mail::imap {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

class ImapOverTls : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(Env("POSTE_TEST_IMAP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    POSTE_REQUIRE_TLS_SERVICES(tls_);
  }

  ClientConfig Config(Tls mode, int port) const {
    ClientConfig c;
    c.host = "127.0.0.1";
    c.port = port;
    c.tls = mode;
    c.username = Env("POSTE_TEST_IMAP_USER");
    c.password = Env("POSTE_TEST_IMAP_PASSWORD");
    c.policy = net::TargetPolicy::WithAllowList({"127.0.0.0/8", "localhost"});
    c.ca_file = tls_.ca_file;
    c.connect_timeout = std::chrono::milliseconds(5000);
    c.read_timeout = std::chrono::milliseconds(5000);
    return c;
  }
  int PlainPort() const { return std::atoi(Env("POSTE_TEST_IMAP_PORT").c_str()); }

  // Connects, reads INBOX, appends to and deletes a folder of its own (commands that write), logs out.
  static void ExpectWorks(const ClientConfig& config) {
    Client client(config);
    ASSERT_NO_THROW(client.Connect());
    auto info = client.Examine("INBOX");
    EXPECT_GT(info.uidvalidity, 0u);
    const std::string folder = "tls-" + std::to_string(::getpid()) + "-" + std::to_string(config.port);
    client.Create(folder);
    client.Append(folder, "From: a@example.org\r\nSubject: over TLS\r\n\r\nHello\r\n");
    auto opened = client.Examine(folder);
    EXPECT_EQ(client.UidSearchFrom(1).size(), 1u);
    auto fetched = client.Fetch(client.UidSearchFrom(1).at(0));
    ASSERT_TRUE(fetched && fetched->bytes);
    EXPECT_NE(fetched->bytes->find("Subject: over TLS"), std::string::npos);
    (void)opened;
    client.Examine("INBOX");
    client.Delete(folder);
    client.Logout();
  }

  // Expects Connect to fail with kTls and `why` in the message.
  static void ExpectTlsError(const ClientConfig& config, const std::string& why) {
    Client client(config);
    try {
      client.Connect();
      ADD_FAILURE() << "connected";
    } catch (const ImapError& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kTls) << e.what();
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  }

  mail::testing::TlsServices tls_;
};

TEST_F(ImapOverTls, StartTlsOnThePlainPortWorks) { ExpectWorks(Config(Tls::kStartTls, PlainPort())); }

TEST_F(ImapOverTls, ImplicitTlsWorks) { ExpectWorks(Config(Tls::kImplicit, tls_.imaps_port)); }

TEST_F(ImapOverTls, ByAHostNameTheCertificateNames) {
  auto c = Config(Tls::kImplicit, tls_.imaps_port);
  c.host = "localhost";
  ExpectWorks(c);
}

TEST_F(ImapOverTls, AnUntrustedCertificateFailsClearly) {
  auto implicit = Config(Tls::kImplicit, tls_.imaps_port);
  implicit.ca_file.clear();  // the system's store does not know the test CA
  ExpectTlsError(implicit, "its TLS certificate is not trusted");
  auto starttls = Config(Tls::kStartTls, PlainPort());
  starttls.ca_file.clear();
  ExpectTlsError(starttls, "its TLS certificate is not trusted");
  // With the checks off (never offered to accounts) the same server signs in: the refusal was the check.
  implicit.verify_peer = false;
  ExpectWorks(implicit);
}

TEST_F(ImapOverTls, ImplicitTlsAgainstThePlainPortFails) {
  Client client(Config(Tls::kImplicit, PlainPort()));
  EXPECT_THROW(client.Connect(), ImapError);
}

}  // namespace
}  // namespace poste::mail::imap
