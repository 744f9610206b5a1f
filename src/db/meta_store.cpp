#include "db/meta_store.hpp"

#include <soci/soci.h>

namespace poste::db::meta {

std::optional<std::string> Get(soci::session& s, const std::string& key) {
  std::string value;
  soci::indicator ind = soci::i_null;
  s << "SELECT value FROM meta WHERE key = :k", soci::use(key, "k"), soci::into(value, ind);
  if (!s.got_data() || ind != soci::i_ok) return std::nullopt;
  return value;
}

void Put(soci::session& s, const std::string& key, const std::string& value) {
  s << "INSERT INTO meta (key, value) VALUES (:k, :v) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      soci::use(key, "k"), soci::use(value, "v");
}

}  // namespace poste::db::meta
