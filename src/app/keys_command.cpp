#include "app/keys_command.hpp"

#include <fcntl.h>
#include <soci/soci.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <utility>
#include <vector>

#include "db/database.hpp"
#include "db/meta_store.hpp"
#include "lib/crypto/master_key.hpp"
#include "modules/auth/login_service.hpp"
#include "modules/inbox/inbox_service.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_dkim_service.hpp"
#include "modules/webhooks/webhooks_service.hpp"

namespace poste::app {

namespace {

constexpr const char* kCheckKey = "master_key_check";  // as in app/master_key.cpp

std::string SettingBinding(long long site_id, const std::string& key) {
  return "site:" + std::to_string(site_id) + ":setting:" + key;  // as in sites_service.cpp
}

// The other sealed columns: (id, site id, sealed value) rows and the binding each was sealed under. A module
// that stores a secret adds its column here, or its secrets become unreadable after a rotation.
struct SealedColumn {
  const char* what;
  const char* select;  // id, site_id, sealed value; rows with an empty value hold no secret
  const char* update;  // :value, :id
  std::string (*binding)(long long id, long long site_id);
};

const SealedColumn kSealedColumns[] = {
    {"the webhook secret", "SELECT id, site_id, secret FROM webhook_subscriptions",
     "UPDATE webhook_subscriptions SET secret = :value WHERE id = :id",
     [](long long id, long long site) { return webhooks::WebhooksService::SecretBinding(site, id); }},
    {"the secrets of mail account", "SELECT id, site_id, secrets FROM mail_accounts",
     "UPDATE mail_accounts SET secrets = :value WHERE id = :id",
     [](long long id, long long site) { return mail::MailAccountsService::SecretBinding(site, id); }},
    {"the password of inbox account", "SELECT id, 0, password FROM inbox_accounts",
     "UPDATE inbox_accounts SET password = :value WHERE id = :id",
     [](long long id, long long) { return inbox::InboxService::PasswordBinding(id); }},
    {"the private key of DKIM key", "SELECT id, site_id, private_key FROM mail_dkim_keys",
     "UPDATE mail_dkim_keys SET private_key = :value WHERE id = :id",
     [](long long id, long long site) { return mail::MailDkimService::SecretBinding(site, id); }},
};

std::size_t ResealColumns(soci::session& s, const crypto::SecretBox& old_box, const crypto::SecretBox& new_box) {
  std::size_t count = 0;
  for (const auto& column : kSealedColumns) {
    struct Row {
      long long id = 0, site_id = 0;
      std::string value;
    };
    std::vector<Row> rows;
    {
      Row row;
      soci::statement st =
          (s.prepare << column.select, soci::into(row.id), soci::into(row.site_id), soci::into(row.value));
      st.execute();
      while (st.fetch()) {
        if (!row.value.empty()) rows.push_back(row);
      }
    }
    for (const auto& row : rows) {
      const std::string binding = column.binding(row.id, row.site_id);
      std::string plain;
      try {
        plain = old_box.Open(row.value, binding);
      } catch (const std::exception& e) {
        throw std::runtime_error(std::string(column.what) + " " + std::to_string(row.id) +
                                 " does not open with the current key (" + e.what() + "): nothing was changed");
      }
      const std::string sealed = new_box.Seal(plain, binding);
      s << column.update, soci::use(sealed, "value"), soci::use(row.id, "id");
      ++count;
    }
  }
  return count;
}

[[noreturn]] void ThrowErrno(const std::string& what, const std::filesystem::path& path) {
  throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
}

void FsyncDir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Writes the key to a new 0600 file (never an existing one) and fsyncs it.
void WriteKeyFile(const std::filesystem::path& path, const crypto::SecretKey& key) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) ThrowErrno("cannot create", path);
  const std::string text = crypto::FormatMasterKey(key) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    errno = saved;
    ThrowErrno("cannot write", path);
  }
}

struct SealedSetting {
  long long site_id = 0;
  std::string key;
  std::string value;
};

struct SealedTotp {
  long long user_id = 0;
  std::string value;
};

}  // namespace

RotateResult RotateMasterKey(db::Database& db, const RotateRequest& request) {
  RotateResult result;
  crypto::SecretKey old_key{};
  std::string source;
  if (request.env_key && !request.env_key->empty()) {
    old_key = crypto::ParseMasterKey(*request.env_key);
    result.from_env = true;
    source = "POSTE_MASTER_KEY";
  } else {
    result.key_file = request.data_dir / "master.key";
    if (!std::filesystem::exists(result.key_file)) {
      throw std::runtime_error("there is no master key at " + result.key_file.string() +
                               " and POSTE_MASTER_KEY is not set: nothing to rotate");
    }
    old_key = crypto::LoadOrCreateKeyFile(result.key_file).key;  // exists: read and checked, never created
    source = result.key_file.string();
  }
  result.old_key_id = crypto::KeyCheck(old_key);
  auto recorded = db.ReadValue([](soci::session& s) { return db::meta::Get(s, kCheckKey); });
  if (recorded && *recorded != result.old_key_id) {
    throw std::runtime_error("the master key from " + source + " (key id " + result.old_key_id +
                             ") is not the key this database was set up with (key id " + *recorded +
                             "): refusing to rotate. Restore the right key first.");
  }
  result.new_key = request.new_key ? *request.new_key : crypto::GenerateSecretKey();
  result.new_key_id = crypto::KeyCheck(result.new_key);
  if (result.new_key_id == result.old_key_id) throw std::runtime_error("the new master key is the current one");

  const auto old_box = crypto::SecretBox::FromKeys(old_key);
  const auto new_box = crypto::SecretBox::FromKeys(result.new_key);

  std::filesystem::path staged;
  bool swapped = false;
  if (!result.from_env) {
    result.backup = request.data_dir / ("master.key.old-" + result.old_key_id);
    if (std::filesystem::exists(result.backup)) {
      throw std::runtime_error(result.backup.string() + " already exists: move it away first");
    }
    staged = request.data_dir / ("master.key.new-" + result.new_key_id);
    WriteKeyFile(staged, result.new_key);
  }

  try {
    db.Write([&](soci::session& s) {
      std::vector<SealedSetting> settings;
      {
        SealedSetting row;
        soci::statement st = (s.prepare << "SELECT site_id, key, value FROM site_settings WHERE secret = 1",
                              soci::into(row.site_id), soci::into(row.key), soci::into(row.value));
        st.execute();
        while (st.fetch()) settings.push_back(row);
      }
      std::vector<SealedTotp> totps;
      {
        SealedTotp row;
        soci::statement st = (s.prepare << "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL",
                              soci::into(row.user_id), soci::into(row.value));
        st.execute();
        while (st.fetch()) totps.push_back(row);
      }
      for (const auto& setting : settings) {
        const std::string binding = SettingBinding(setting.site_id, setting.key);
        std::string plain;
        try {
          plain = old_box.Open(setting.value, binding);
        } catch (const std::exception& e) {
          throw std::runtime_error("the secret setting " + setting.key + " of site " + std::to_string(setting.site_id) +
                                   " does not open with the current key (" + e.what() + "): nothing was changed");
        }
        std::string sealed = new_box.Seal(plain, binding);
        s << "UPDATE site_settings SET value = :value WHERE site_id = :site AND key = :key", soci::use(sealed),
            soci::use(setting.site_id), soci::use(setting.key);
      }
      for (const auto& totp : totps) {
        const std::string binding = auth::TotpAssociatedData(totp.user_id);
        std::string plain;
        try {
          plain = old_box.Open(totp.value, binding);
        } catch (const std::exception& e) {
          throw std::runtime_error("the TOTP secret of user " + std::to_string(totp.user_id) +
                                   " does not open with the current key (" + e.what() + "): nothing was changed");
        }
        std::string sealed = new_box.Seal(plain, binding);
        s << "UPDATE users SET totp_secret = :value WHERE id = :id", soci::use(sealed), soci::use(totp.user_id);
      }
      result.others = ResealColumns(s, old_box, new_box);
      db::meta::Put(s, kCheckKey, result.new_key_id);
      result.settings = settings.size();
      result.totp = totps.size();
      if (!result.from_env) {
        // The last step before the commit: keep the old file under its backup name, then swap the new one in.
        if (::link(result.key_file.c_str(), result.backup.c_str()) != 0) ThrowErrno("cannot keep", result.backup);
        if (::rename(staged.c_str(), result.key_file.c_str()) != 0) {
          const int saved = errno;
          ::unlink(result.backup.c_str());
          errno = saved;
          ThrowErrno("cannot install the new key as", result.key_file);
        }
        swapped = true;
        FsyncDir(request.data_dir);
      }
    });
  } catch (...) {
    if (swapped) {
      // The commit failed after the swap: the old key file goes back where it was.
      ::rename(result.backup.c_str(), result.key_file.c_str());
      FsyncDir(request.data_dir);
    }
    if (!staged.empty()) ::unlink(staged.c_str());
    throw;
  }
  return result;
}

int KeysRotateCommand(const Config& config, db::Database& db, bool new_key_stdin, std::istream& in, std::ostream& out) {
  RotateRequest request;
  request.data_dir = config.data.dir;
  if (const char* env = std::getenv("POSTE_MASTER_KEY"); env && *env) request.env_key = env;
  if (new_key_stdin) {
    std::string line;
    std::getline(in, line);
    request.new_key = crypto::ParseMasterKey(line);
  }
  auto result = RotateMasterKey(db, request);
  out << "Re-sealed " << result.settings << " secret setting(s) and " << result.totp
      << " TOTP secret(s) under the new master key (key id " << result.old_key_id << " -> " << result.new_key_id
      << ").\n";
  if (result.from_env) {
    if (!new_key_stdin) {
      out << "\nThe new master key (shown once):\n\n    " << crypto::FormatMasterKey(result.new_key) << "\n\n";
    }
    out << "The key came from POSTE_MASTER_KEY: set POSTE_MASTER_KEY to the new key before starting the server "
           "again (the old key no longer opens anything).\n";
  } else {
    out << "Wrote " << result.key_file.string() << " (0600); the old key is kept as " << result.backup.string()
        << ". Back up the new key with the database.\n";
  }
  out << "Access tokens signed with the old key are no longer valid: users sign in again.\n";
  return 0;
}

}  // namespace poste::app
