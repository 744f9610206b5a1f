#pragma once
// The master key that seals secrets at rest and derives the token-signing key: POSTE_MASTER_KEY (base64,
// 32 bytes) or <data.dir>/master.key, created 0600 on first run. Its check value is recorded in the
// database, so a wrong key stops start-up with a clear message instead of failing later on every secret.
#include "app/config.hpp"
#include "lib/crypto/secret_box.hpp"

namespace poste::db {
class Database;
}

namespace poste::app {

crypto::SecretKey LoadMasterKey(const Config& config, db::Database& database);

}  // namespace poste::app
