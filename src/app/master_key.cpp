#include "app/master_key.hpp"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "db/database.hpp"
#include "db/meta_store.hpp"
#include "lib/crypto/master_key.hpp"

namespace poste::app {

namespace {
constexpr const char* kCheckKey = "master_key_check";
}

crypto::SecretKey LoadMasterKey(const Config& config, db::Database& database) {
  crypto::SecretKey key{};
  std::string source;
  if (const char* env = std::getenv("POSTE_MASTER_KEY"); env && *env) {
    key = crypto::ParseMasterKey(env);
    source = "POSTE_MASTER_KEY";
  } else {
    auto path = std::filesystem::path(config.data.dir) / "master.key";
    auto file = crypto::LoadOrCreateKeyFile(path);
    key = file.key;
    source = path.string();
    if (file.created) spdlog::warn("created the master key {}: back it up with the database", source);
  }
  std::string check = crypto::KeyCheck(key);
  auto recorded = database.ReadValue([](soci::session& s) { return db::meta::Get(s, kCheckKey); });
  if (!recorded) {
    database.Write([&](soci::session& s) { db::meta::Put(s, kCheckKey, check); });
  } else if (*recorded != check) {
    throw std::runtime_error("the master key from " + source + " (key id " + check +
                             ") is not the key this database was set up with (key id " + *recorded +
                             "): stored secrets cannot be read with it. Restore the right key.");
  }
  return key;
}

}  // namespace poste::app
