#pragma once
// The server's own facts in the `meta` key/value table (e.g. the master key's check value).
#include <optional>
#include <string>

namespace soci {
class session;
}

namespace poste::db::meta {

std::optional<std::string> Get(soci::session& s, const std::string& key);
// Inserts the key, or replaces its value.
void Put(soci::session& s, const std::string& key, const std::string& value);

}  // namespace poste::db::meta
