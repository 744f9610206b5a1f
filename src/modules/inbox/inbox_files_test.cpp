// The inbox's attachment folders (data/inbox/<account id>/) of accounts deleted with their site or user, on
// SQLite and PostgreSQL: ForgetDeletedAccounts removes those and only those, and never throws.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <filesystem>
#include <fstream>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/crypto/secret_box.hpp"
#include "modules/inbox/inbox_service.hpp"
#include "modules/inbox/inbox_test_support.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/users/users_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::inbox {
namespace {

namespace fs = std::filesystem;

class InboxFilesTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    data_dir_ = fs::temp_directory_path() / testing::UniqueFolder("poste-inbox-files-test");
    fs::create_directories(data_dir_);
    queue_ = std::make_unique<jobs::JobQueue>(db());
    secrets_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    InboxOptions options;
    options.data_dir = data_dir_;
    service_ = std::make_unique<InboxService>(db(), *queue_, *secrets_, std::move(options));
    site_a_ = db().WriteValue([](soci::session& s) {
      sites::NewSite site;
      site.slug = site.name = "alpha";
      return sites::store::Insert(s, site, 1);
    });
    site_b_ = db().WriteValue([](soci::session& s) {
      sites::NewSite site;
      site.slug = site.name = "beta";
      return sites::store::Insert(s, site, 1);
    });
    user_ = db().WriteValue([](soci::session& s) {
      users::NewUser u;
      u.email = u.name = "reader@example.org";
      u.password_hash = "x";
      return users::store::Insert(s, u, 1);
    });
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(data_dir_, ec);
    DbTest::TearDown();
  }

  // An account of the site (or, without one, the user's own) with an attachment file, as a sync leaves it.
  std::int64_t AccountWithFile(std::optional<std::int64_t> site) {
    web::Principal caller;
    caller.user_id = user_;
    caller.admin = true;
    AccountInput in;
    in.name = "Box";
    in.host = "imap.example.org";
    in.tls = "implicit";
    in.username = "box";
    in.password = "secret";
    in.site_id = site;
    const auto id = service_->CreateAccount({}, caller, in).id;
    WriteFile(AccountDir(id) / "7" / "0-invoice.pdf");
    return id;
  }
  fs::path AccountDir(std::int64_t id) const { return data_dir_ / "inbox" / std::to_string(id); }
  static void WriteFile(const fs::path& path) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << "%PDF-1.4\n";
  }

  fs::path data_dir_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<crypto::SecretBox> secrets_;
  std::unique_ptr<InboxService> service_;
  std::int64_t site_a_ = 0, site_b_ = 0, user_ = 0;
};

TEST_P(InboxFilesTest, ADeletedSitesOrUsersAccountsLoseTheirFilesAndOnlyThose) {
  const auto of_a = AccountWithFile(site_a_);
  const auto of_b = AccountWithFile(site_b_);
  const auto personal = AccountWithFile(std::nullopt);
  WriteFile(data_dir_ / "inbox" / "notes" / "keep.txt");  // not an account's folder: never touched
  WriteFile(data_dir_ / "inbox" / "12x" / "keep.txt");

  service_->ForgetDeletedAccounts();  // nothing deleted yet: everything stays
  for (auto id : {of_a, of_b, personal}) EXPECT_TRUE(fs::exists(AccountDir(id) / "7" / "0-invoice.pdf")) << id;

  db().Write([&](soci::session& s) { sites::store::Delete(s, site_a_); });
  service_->ForgetDeletedAccounts();
  EXPECT_FALSE(fs::exists(AccountDir(of_a)));
  EXPECT_TRUE(fs::exists(AccountDir(of_b) / "7" / "0-invoice.pdf"));
  EXPECT_TRUE(fs::exists(AccountDir(personal) / "7" / "0-invoice.pdf"));

  db().Write([&](soci::session& s) { users::store::Delete(s, user_); });
  service_->ForgetDeletedAccounts();
  EXPECT_FALSE(fs::exists(AccountDir(personal)));
  EXPECT_TRUE(fs::exists(AccountDir(of_b) / "7" / "0-invoice.pdf"));
  EXPECT_TRUE(fs::exists(data_dir_ / "inbox" / "notes" / "keep.txt"));
  EXPECT_TRUE(fs::exists(data_dir_ / "inbox" / "12x" / "keep.txt"));

  // A folder left by an account deleted earlier (a crash between the commit and the removal) goes too.
  WriteFile(AccountDir(of_b + 1000) / "1" / "0-old.txt");
  service_->ForgetDeletedAccounts();
  EXPECT_FALSE(fs::exists(AccountDir(of_b + 1000)));
  EXPECT_TRUE(fs::exists(AccountDir(of_b)));
}

TEST_P(InboxFilesTest, NoFolderOrAnUnreadableOneIsNotAnError) {
  EXPECT_NO_THROW(service_->ForgetDeletedAccounts());  // no data/inbox yet
  std::ofstream(data_dir_ / "inbox") << "a file where the folder should be";
  EXPECT_NO_THROW(service_->ForgetDeletedAccounts());  // logged
  EXPECT_TRUE(fs::is_regular_file(data_dir_ / "inbox"));
}

POSTE_INSTANTIATE_DB_TEST(InboxFilesTest);

}  // namespace
}  // namespace poste::inbox
