#include "app/keys_command.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "db/database.hpp"
#include "db/meta_store.hpp"
#include "lib/crypto/master_key.hpp"
#include "lib/crypto/random.hpp"
#include "modules/auth/login_service.hpp"
#include "modules/inbox/inbox_service.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_dkim_service.hpp"
#include "modules/sites/sites_service.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/users/users_store.hpp"
#include "modules/webhooks/webhooks_service.hpp"
#include "support/db_fixture.hpp"

namespace poste::app {
namespace {

namespace fs = std::filesystem;

class KeysRotateTest : public ::testing::Test {
 protected:
  KeysRotateTest() : temp(db::Dialect::kSqlite) {
    dir = fs::temp_directory_path() / ("poste-keys-" + crypto::RandomToken(6));
    fs::create_directories(dir);
    old_key = crypto::LoadOrCreateKeyFile(dir / "master.key").key;
    temp.db().Write([&](soci::session& s) { db::meta::Put(s, "master_key_check", crypto::KeyCheck(old_key)); });
    auto box = crypto::SecretBox::FromKeys(old_key);
    site = temp.db().WriteValue([](soci::session& s) {
      sites::NewSite nu;
      nu.slug = "alpha";
      nu.name = "Alpha";
      return sites::store::Insert(s, nu, 1000);
    });
    sites::SitesService sites_service(temp.db(), box);
    sites_service.PutSetting({}, site, "smtp.password", "hunter2-smtp", true);
    sites_service.PutSetting({}, site, "smtp.host", "mail.example", false);
    user = temp.db().WriteValue([&](soci::session& s) {
      users::NewUser nu;
      nu.email = "totp@example.com";
      nu.name = "T";
      nu.password_hash = "x";
      auto id = users::store::Insert(s, nu, 1000);
      users::store::SetTotp(s, id, box.Seal("JBSWY3DPEHPK3PXP", auth::TotpAssociatedData(id)), true, 1000);
      return id;
    });
  }
  ~KeysRotateTest() override { fs::remove_all(dir); }

  std::string Setting(const crypto::SecretKey& key) {
    auto box = crypto::SecretBox::FromKeys(key);
    sites::SitesService sites_service(temp.db(), box);
    return sites_service.SettingValue(site, "smtp.password").value_or("");
  }
  std::string Totp(const crypto::SecretKey& key) {
    auto sealed = temp.db().ReadValue([&](soci::session& s) { return users::store::GetAuthById(s, user); });
    return crypto::SecretBox::FromKeys(key).Open(*sealed->totp_secret, auth::TotpAssociatedData(user));
  }
  std::string Check() {
    return temp.db().ReadValue([](soci::session& s) { return db::meta::Get(s, "master_key_check"); }).value_or("");
  }
  std::string FileText(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  testing::TempDatabase temp;
  fs::path dir;
  crypto::SecretKey old_key{};
  std::int64_t site = 0;
  std::int64_t user = 0;
};

TEST_F(KeysRotateTest, ReSealsEverySecretAndSwapsTheKeyFile) {
  ASSERT_EQ(Setting(old_key), "hunter2-smtp");
  auto result = RotateMasterKey(temp.db(), {dir, std::nullopt, std::nullopt});
  EXPECT_EQ(result.settings, 1u);
  EXPECT_EQ(result.totp, 1u);
  EXPECT_FALSE(result.from_env);
  EXPECT_EQ(result.old_key_id, crypto::KeyCheck(old_key));
  EXPECT_EQ(Check(), crypto::KeyCheck(result.new_key));

  // The new file holds the new key, 0600; the old one is kept.
  auto loaded = crypto::LoadOrCreateKeyFile(dir / "master.key");
  EXPECT_FALSE(loaded.created);
  EXPECT_EQ(loaded.key, result.new_key);
  struct stat st {};
  ASSERT_EQ(::stat((dir / "master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(crypto::ParseMasterKey(FileText(dir / ("master.key.old-" + result.old_key_id))), old_key);
  EXPECT_FALSE(fs::exists(dir / ("master.key.new-" + result.new_key_id)));

  // The secrets read back with the new key only.
  EXPECT_EQ(Setting(result.new_key), "hunter2-smtp");
  EXPECT_EQ(Totp(result.new_key), "JBSWY3DPEHPK3PXP");
  EXPECT_ANY_THROW(Setting(old_key));
  EXPECT_ANY_THROW(Totp(old_key));
  // A plain setting is untouched.
  auto host = temp.db().ReadValue([&](soci::session& s) { return sites::store::GetSetting(s, site, "smtp.host"); });
  EXPECT_EQ(host->value, "mail.example");
}

// The modules' own sealed columns: webhook secrets, mail account secrets, inbox passwords.
TEST_F(KeysRotateTest, ReSealsTheWebhookMailAndInboxSecrets) {
  auto box = crypto::SecretBox::FromKeys(old_key);
  const long long site_id = site;
  temp.db().Write([&](soci::session& s) {
    const std::string hook = box.Seal("whsec", webhooks::WebhooksService::SecretBinding(site, 1));
    s << "INSERT INTO webhook_subscriptions (id, site_id, url, secret, created_at, updated_at)"
         " VALUES (1, :site, 'https://h.example', :secret, 1, 1)",
        soci::use(site_id), soci::use(hook);
    const std::string account = box.Seal(R"({"password":"p"})", mail::MailAccountsService::SecretBinding(site, 2));
    s << "INSERT INTO mail_accounts (id, site_id, name, type, from_email, secrets, created_at, updated_at)"
         " VALUES (2, :site, 'M', 'smtp', 'a@example.com', :secrets, 1, 1)",
        soci::use(site_id), soci::use(account);
    s << "INSERT INTO mail_accounts (id, site_id, name, type, from_email, secrets, created_at, updated_at)"
         " VALUES (3, :site, 'Outbox', 'outbox', 'b@example.com', '', 1, 1)",  // no secret at all
        soci::use(site_id);
    const std::string password = box.Seal("imap-pass", inbox::InboxService::PasswordBinding(4));
    s << "INSERT INTO inbox_accounts (id, site_id, name, host, port, tls, username, password, created_at, updated_at)"
         " VALUES (4, :site, 'I', 'imap.example', 143, 'none', 'u', :password, 1, 1)",
        soci::use(site_id), soci::use(password);
  });
  auto result = RotateMasterKey(temp.db(), {dir, std::nullopt, std::nullopt});
  EXPECT_EQ(result.others, 3u);
  auto next = crypto::SecretBox::FromKeys(result.new_key);
  auto value = [&](const std::string& sql) {
    return temp.db().ReadValue([&](soci::session& s) {
      std::string v;
      s << sql, soci::into(v);
      return v;
    });
  };
  EXPECT_EQ(next.Open(value("SELECT secret FROM webhook_subscriptions WHERE id = 1"),
                      webhooks::WebhooksService::SecretBinding(site, 1)),
            "whsec");
  EXPECT_EQ(next.Open(value("SELECT secrets FROM mail_accounts WHERE id = 2"),
                      mail::MailAccountsService::SecretBinding(site, 2)),
            R"({"password":"p"})");
  EXPECT_EQ(value("SELECT secrets FROM mail_accounts WHERE id = 3"), "");
  EXPECT_EQ(
      next.Open(value("SELECT password FROM inbox_accounts WHERE id = 4"), inbox::InboxService::PasswordBinding(4)),
      "imap-pass");
}

// dkim-tls: the DKIM private keys of sites (mail_dkim_keys.private_key).
TEST_F(KeysRotateTest, ReSealsTheDkimPrivateKeys) {
  auto box = crypto::SecretBox::FromKeys(old_key);
  const long long site_id = site;
  const std::string pem = "-----BEGIN PRIVATE KEY-----\nnot really\n-----END PRIVATE KEY-----\n";
  temp.db().Write([&](soci::session& s) {
    const std::string sealed = box.Seal(pem, mail::MailDkimService::SecretBinding(site, 5));
    s << "INSERT INTO mail_dkim_keys (id, site_id, domain, selector, private_key, public_key, bits, created_at,"
         " updated_at) VALUES (5, :site, 'example.com', 's1', :key, 'MIIB', 2048, 1, 1)",
        soci::use(site_id), soci::use(sealed);
  });
  auto result = RotateMasterKey(temp.db(), {dir, std::nullopt, std::nullopt});
  EXPECT_EQ(result.others, 1u);
  auto next = crypto::SecretBox::FromKeys(result.new_key);
  const std::string stored = temp.db().ReadValue([&](soci::session& s) {
    std::string v;
    s << "SELECT private_key FROM mail_dkim_keys WHERE id = 5", soci::into(v);
    return v;
  });
  EXPECT_EQ(next.Open(stored, mail::MailDkimService::SecretBinding(site, 5)), pem);
  EXPECT_ANY_THROW(box.Open(stored, mail::MailDkimService::SecretBinding(site, 5)));
}

TEST_F(KeysRotateTest, FromTheEnvironmentWithAGivenKey) {
  auto env = crypto::FormatMasterKey(old_key);
  fs::remove(dir / "master.key");
  auto next = crypto::GenerateSecretKey();
  auto result = RotateMasterKey(temp.db(), {dir, env, next});
  EXPECT_TRUE(result.from_env);
  EXPECT_EQ(result.new_key, next);
  EXPECT_FALSE(fs::exists(dir / "master.key"));  // the operator updates the variable; no file is written
  EXPECT_EQ(Setting(next), "hunter2-smtp");
  EXPECT_EQ(Totp(next), "JBSWY3DPEHPK3PXP");
  EXPECT_EQ(Check(), crypto::KeyCheck(next));
}

TEST_F(KeysRotateTest, AWrongCurrentKeyIsRefused) {
  auto wrong = crypto::FormatMasterKey(crypto::GenerateSecretKey());
  try {
    RotateMasterKey(temp.db(), {dir, wrong, std::nullopt});
    FAIL() << "rotated with a wrong key";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not the key this database was set up with"), std::string::npos);
  }
  EXPECT_EQ(Check(), crypto::KeyCheck(old_key));
  EXPECT_EQ(Setting(old_key), "hunter2-smtp");
}

TEST_F(KeysRotateTest, ASecretThatDoesNotOpenLeavesEverythingAsItWas) {
  // A second secret sealed under a key the server does not have: the rotation must not half-happen.
  temp.db().Write([&](soci::session& s) {
    auto stray = crypto::SecretBox::FromKeys(crypto::GenerateSecretKey());
    sites::store::PutSetting(s, site, "api.token", stray.Seal("x", "site:1:setting:api.token"), true, 1000);
  });
  const auto before_file = FileText(dir / "master.key");
  EXPECT_ANY_THROW(RotateMasterKey(temp.db(), {dir, std::nullopt, std::nullopt}));
  EXPECT_EQ(FileText(dir / "master.key"), before_file);
  EXPECT_EQ(Check(), crypto::KeyCheck(old_key));
  EXPECT_EQ(Setting(old_key), "hunter2-smtp");
  EXPECT_EQ(Totp(old_key), "JBSWY3DPEHPK3PXP");
  for (const auto& entry : fs::directory_iterator(dir)) EXPECT_EQ(entry.path().filename(), "master.key");
}

TEST_F(KeysRotateTest, TheSameKeyIsRefused) {
  EXPECT_ANY_THROW(RotateMasterKey(temp.db(), {dir, std::nullopt, old_key}));
  EXPECT_EQ(Check(), crypto::KeyCheck(old_key));
}

}  // namespace
}  // namespace poste::app
