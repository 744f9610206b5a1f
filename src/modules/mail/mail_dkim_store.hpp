#pragma once
// The mail_dkim_keys table: SQL and nothing else, scoped by site. Times are passed in (epoch ms).
#include <cstdint>
#include <optional>
#include <vector>

#include "modules/mail/mail_dkim_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::dkim_store {

// Inserts `key` with an empty private key (sealing binds the id this returns: see SetPrivateKey); nullopt
// when the site already has a key for this domain and selector.
std::optional<std::int64_t> Insert(soci::session& s, const DkimKey& key, std::int64_t now_ms);
void SetPrivateKey(soci::session& s, std::int64_t site_id, std::int64_t id, const std::string& sealed);

std::optional<DkimKey> Get(soci::session& s, std::int64_t site_id, std::int64_t id);
// Oldest first.
std::vector<DkimKey> List(soci::session& s, std::int64_t site_id);
// The enabled keys, newest first (the order SignersFor prefers them in).
std::vector<DkimKey> ListEnabled(soci::session& s, std::int64_t site_id);
std::size_t Count(soci::session& s, std::int64_t site_id);

// Whether there was such a key.
bool SetEnabled(soci::session& s, std::int64_t site_id, std::int64_t id, bool enabled, std::int64_t now_ms);
bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id);

}  // namespace poste::mail::dkim_store
