#pragma once
// The mail_accounts table: SQL and nothing else. Every function takes the site id and filters by it; it runs
// on the session of the caller's Database::Write (or Read for queries). Secrets are stored sealed as given
// (account.sealed_secrets); `secrets` is not read or written here.
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "modules/mail/mail_account_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::account_store {

// The new id.
std::int64_t Insert(soci::session& s, const Account& account, std::int64_t now_ms);
std::optional<Account> Get(soci::session& s, std::int64_t site_id, std::int64_t id);
// Locks the row until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's writer is already exclusive).
std::optional<Account> GetForUpdate(soci::session& s, std::int64_t site_id, std::int64_t id);
std::optional<Account> GetDefault(soci::session& s, std::int64_t site_id);
// Oldest first.
std::vector<Account> List(soci::session& s, std::int64_t site_id);
std::int64_t Count(soci::session& s, std::int64_t site_id);
// Writes every column but id, site_id and created_at.
bool Save(soci::session& s, const Account& account, std::int64_t now_ms);
bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id);
// Clears is_default on the site's accounts other than `except_id`.
void ClearDefault(soci::session& s, std::int64_t site_id, std::int64_t except_id);

}  // namespace poste::mail::account_store
