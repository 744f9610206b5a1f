#pragma once
// The audit log's domain logic: writing an entry inside the transaction of the change it records (with
// secrets redacted), and reading the log with filters.
#include <nlohmann/json.hpp>

#include "modules/audit/audit_types.hpp"

namespace soci {
class session;
}
namespace poste::db {
class Database;
}

namespace poste::audit {

inline constexpr std::string_view kRedacted = "[redacted]";

// True for field names whose values are secrets (password, current_password, password_hash, new_password,
// totp_secret, token, access_token, refresh_token, api_key, key_hash, client_secret, private_key, and any
// name ending in "_password", "_secret" or "_token").
bool IsSecretField(std::string_view name);

// A copy of `changes` where the value of every secret field, at any depth, is "[redacted]".
nlohmann::json Redact(const nlohmann::json& changes);

// Writes the entry on `s` (the session of the caller's transaction: the entry commits or rolls back with the
// change). Fills entry.at with the current time when it is 0 and redacts entry.changes. Returns the id.
std::int64_t Record(soci::session& s, AuditEntry entry);

class AuditService {
 public:
  explicit AuditService(db::Database& db) : db_(db) {}
  // Blocking: call through co_await blocking(...).
  AuditPage List(const AuditFilter& filter);

 private:
  db::Database& db_;
};

}  // namespace poste::audit
