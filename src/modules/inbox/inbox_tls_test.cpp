// The inbox over TLS, on SQLite and PostgreSQL: accounts with tls "implicit" (Dovecot's IMAPS port) and
// "starttls" (its IMAP port) sync a message delivered with dovecot-lda, the server's certificate checked
// against the CA of scripts/test-services given as InboxOptions::tls_ca_file (mail.tls_ca_file); without that
// CA the sync fails and says the certificate is not trusted; setting \Seen on the server goes over TLS too.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <algorithm>
#include <filesystem>

#include "jobs/job_queue.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/mail/testing/tls_services.hpp"
#include "modules/inbox/inbox_service.hpp"
#include "modules/inbox/inbox_test_support.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/users/users_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::inbox {
namespace {

using testing::DovecotFolder;
using testing::Env;

class InboxTlsTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    ASSERT_FALSE(Env("POSTE_TEST_IMAP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    POSTE_REQUIRE_TLS_SERVICES(tls_);
    data_dir_ = std::filesystem::temp_directory_path() / testing::UniqueFolder("poste-inbox-tls");
    std::filesystem::create_directories(data_dir_);
    queue_ = std::make_unique<jobs::JobQueue>(db(), [this] { return now_; });
    secrets_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    users::NewUser u;
    u.email = "a@example.com";
    u.name = "A";
    u.password_hash = "x";
    user_ = db().WriteValue([&](soci::session& s) { return users::store::Insert(s, u, 1); });
    folder_ = std::make_unique<DovecotFolder>("tls-test");
    Build(tls_.ca_file);
  }
  void TearDown() override {
    folder_.reset();
    std::error_code ec;
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_, ec);
    DbTest::TearDown();
  }

  void Build(const std::string& ca_file) {
    InboxOptions options;
    options.data_dir = data_dir_;
    options.now_ms = [this] { return now_; };
    options.policy = net::TargetPolicy::WithAllowList({"127.0.0.1"});
    options.tls_ca_file = ca_file;
    service_ = std::make_unique<InboxService>(db(), *queue_, *secrets_, std::move(options));
  }

  web::Principal Me() const {
    web::Principal p;
    p.user_id = user_;
    return p;
  }

  Account Create(const std::string& tls, int port) {
    AccountInput in;
    in.name = "TLS inbox " + tls;
    in.host = "127.0.0.1";
    in.port = port;
    in.tls = tls;
    in.username = Env("POSTE_TEST_IMAP_USER");
    in.password = Env("POSTE_TEST_IMAP_PASSWORD");
    in.mailbox = folder_->name();
    return service_->CreateAccount({}, Me(), in);
  }

  std::vector<MessageSummary> Messages() {
    MessageFilter f;
    f.limit = 200;
    return service_->ListMessages(Me(), f).items;
  }

  static std::string Mail(const std::string& subject) {
    return "From: Ada <ada@example.org>\nTo: poste@example.test\nSubject: " + subject + "\nMessage-ID: <" + subject +
           "@example.org>\nDate: Tue, 14 Nov 2023 22:13:20 +0000\n"
           "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nSent over TLS.\n";
  }

  mail::testing::TlsServices tls_;
  std::filesystem::path data_dir_;
  std::int64_t now_ = 1'700'000'000'000;
  std::int64_t user_ = 0;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<crypto::SecretBox> secrets_;
  std::unique_ptr<InboxService> service_;
  std::unique_ptr<DovecotFolder> folder_;
};

TEST_P(InboxTlsTest, ImplicitTlsSyncsAndSetsSeenOverTls) {
  folder_->Deliver(Mail("implicit-tls"));
  const auto account = Create("implicit", tls_.imaps_port);
  auto result = service_->SyncNow(Me(), account.id);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.fetched, 1);
  auto list = Messages();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].subject, "implicit-tls");
  // Read in Poste: \Seen is set on the server over the same kind of connection.
  EXPECT_TRUE(service_->MarkRead(Me(), list[0].id));
  auto flags = folder_->Flags(static_cast<std::uint32_t>(list[0].uid));
  EXPECT_EQ(std::count(flags.begin(), flags.end(), "\\Seen"), 1);
}

TEST_P(InboxTlsTest, StartTlsSyncs) {
  folder_->Deliver(Mail("starttls"));
  const auto account = Create("starttls", std::atoi(Env("POSTE_TEST_IMAP_PORT").c_str()));
  auto result = service_->SyncNow(Me(), account.id);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.fetched, 1);
  auto list = Messages();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].subject, "starttls");
}

TEST_P(InboxTlsTest, AnUntrustedCertificateFailsTheSyncClearly) {
  folder_->Deliver(Mail("untrusted"));
  Build("");  // the system's store only: it does not know the test CA
  for (const auto& [tls, port] : {std::pair<std::string, int>{"implicit", tls_.imaps_port},
                                  {"starttls", std::atoi(Env("POSTE_TEST_IMAP_PORT").c_str())}}) {
    const auto account = Create(tls, port);
    auto result = service_->SyncNow(Me(), account.id);
    EXPECT_FALSE(result.ok) << tls;
    EXPECT_NE(result.error.find("TLS certificate is not trusted"), std::string::npos) << result.error;
    EXPECT_NE(service_->GetAccount(Me(), account.id).last_error.find("not trusted"), std::string::npos);
  }
  EXPECT_TRUE(Messages().empty());
}

POSTE_INSTANTIATE_DB_TEST(InboxTlsTest);

}  // namespace
}  // namespace poste::inbox
