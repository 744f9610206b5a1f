// The inbox's attachment files (data/inbox/<account id>/) go with their account when its site or its user is
// deleted, once the deletion has committed, through the whole App on SQLite and PostgreSQL, against the
// Dovecot of scripts/test-services.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "modules/inbox/inbox_test_support.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

namespace fs = std::filesystem;
using inbox::testing::DovecotFolder;

const char* kWithAttachment =
    "From: Ada <ada@example.org>\n"
    "To: support@poste.example\n"
    "Subject: Invoice\n"
    "Message-ID: <files-api@example.org>\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=mix\n"
    "\n"
    "--mix\n"
    "Content-Type: text/plain; charset=utf-8\n"
    "\n"
    "See attached.\n"
    "--mix\n"
    "Content-Type: application/pdf\n"
    "Content-Disposition: attachment; filename=\"invoice.pdf\"\n"
    "Content-Transfer-Encoding: base64\n"
    "\n"
    "JVBERi0xLjQK\n"
    "--mix--\n";

class InboxFilesApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override {
    config.inbox.allow_private_hosts = {"127.0.0.1"};
    data_dir_ = config.data.dir;
  }
  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    folder_ = std::make_unique<DovecotFolder>("files-api-test");
    folder_->Deliver(kWithAttachment);
  }
  void TearDown() override {
    folder_.reset();
    PermissionTable::TearDown();
  }

  // An account reading the test folder, synced: its attachment is on disk. `extra`: {"site_id": ...}.
  std::int64_t SyncedAccount(Caller who, const nlohmann::json& extra = nlohmann::json::object()) {
    auto body = inbox::testing::DovecotAccountBody(folder_->name());
    body.update(extra);
    auto created = Call("POST", "/api/v1/inbox/accounts", callers_[who], body.dump());
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = nlohmann::json::parse(created.body, nullptr, false).value("id", std::int64_t{0});
    auto sync = Call("POST", "/api/v1/inbox/accounts/" + std::to_string(id) + "/sync", callers_[who]);
    EXPECT_EQ(sync.status, 200) << sync.body;
    EXPECT_NE(sync.body.find("\"fetched\":1"), std::string::npos) << sync.body;
    EXPECT_TRUE(HasFiles(id)) << "the sync keeps the attachment under " << AccountDir(id);
    return id;
  }
  std::string AccountDir(std::int64_t id) const { return data_dir_ + "/inbox/" + std::to_string(id); }
  bool HasFiles(std::int64_t id) const {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(AccountDir(id), ec); !ec && it != fs::end(it); it.increment(ec)) {
      if (it->is_regular_file()) return true;
    }
    return false;
  }

  std::string data_dir_;
  std::unique_ptr<DovecotFolder> folder_;
};

TEST_P(InboxFilesApi, ADeletedSitesOrUsersAttachmentsGoWithIt) {
  const auto of_alpha = SyncedAccount(kEditorA, {{"site_id", site_a_}});
  const auto of_beta = SyncedAccount(kEditorB, {{"site_id", site_b_}});
  const auto personal = SyncedAccount(kEditorB);
  ASSERT_FALSE(HasFailure());

  auto r = Call("DELETE", "/api/v1/sites/alpha", callers_[kAdmin]);
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_FALSE(fs::exists(AccountDir(of_alpha)));
  EXPECT_TRUE(HasFiles(of_beta));
  EXPECT_TRUE(HasFiles(personal));

  r = Call("DELETE", "/api/v1/users/" + std::to_string(editor_b_), callers_[kAdmin]);
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_FALSE(fs::exists(AccountDir(personal)));
  EXPECT_TRUE(HasFiles(of_beta)) << "the site's shared inbox is not the user's";
  EXPECT_EQ(Call("GET", "/api/v1/inbox/accounts/" + std::to_string(of_beta), callers_[kAdmin]).status, 200);
}

POSTE_INSTANTIATE_DB_TEST(InboxFilesApi);

}  // namespace
}  // namespace poste::testing
