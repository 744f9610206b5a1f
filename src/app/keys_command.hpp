#pragma once
// `poste keys rotate`: re-seals every secret at rest under a new master key.
//
// Every secret (site_settings with secret = 1, bound to "site:<id>:setting:<key>"; users.totp_secret, bound
// to auth::TotpAssociatedData(id); webhook secrets, mail account secrets and inbox passwords, each bound as
// its module seals it) is opened with the current key and sealed again with the new one, and the
// meta check value is replaced, in ONE transaction. When the key lives in <data.dir>/master.key, the new key
// file is written beside it first (0600, fsynced) and swapped in as the transaction's last step: the old file
// is kept as master.key.old-<old key id>. Any failure (a secret that does not open, a file error, the commit)
// rolls the database back and puts the old key file back, so everything is as it was.
//
// Rotating the master key also rotates the token-signing key derived from it: every access token dies
// (refresh tokens and API keys are stored hashed, not keyed, and survive).
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

#include "app/config.hpp"
#include "lib/crypto/secret_box.hpp"

namespace poste::db {
class Database;
}

namespace poste::app {

struct RotateRequest {
  std::filesystem::path data_dir;            // where master.key is (when env_key is not set)
  std::optional<std::string> env_key;        // the current key from POSTE_MASTER_KEY (base64)
  std::optional<crypto::SecretKey> new_key;  // the new key; generated when absent
};

struct RotateResult {
  std::string old_key_id;
  std::string new_key_id;
  crypto::SecretKey new_key{};
  std::size_t settings = 0;        // secret site settings re-sealed
  std::size_t totp = 0;            // TOTP secrets re-sealed
  std::size_t others = 0;          // webhook secrets, mail account secrets, inbox passwords re-sealed
  bool from_env = false;           // the operator must put the new key into POSTE_MASTER_KEY
  std::filesystem::path key_file;  // the new key file (when !from_env)
  std::filesystem::path backup;    // the old key file, kept (when !from_env)
};

// Throws (leaving the database and the key file unchanged) when there is no current key, when the current key
// is not the one the database was set up with, when the new key equals the current one, or when any secret
// does not open with the current key.
RotateResult RotateMasterKey(db::Database& db, const RotateRequest& request);

// The CLI command: reads the new key from `in` when new_key_stdin, rotates, reports to `out`. Exit code.
int KeysRotateCommand(const Config& config, db::Database& db, bool new_key_stdin, std::istream& in, std::ostream& out);

}  // namespace poste::app
