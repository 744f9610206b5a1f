#include "modules/audit/audit_service.hpp"

#include <array>
#include <chrono>

#include "db/database.hpp"
#include "modules/audit/audit_store.hpp"

namespace poste::audit {

namespace {

constexpr std::array<std::string_view, 12> kSecretNames = {
    "password",     "current_password", "password_hash", "new_password", "totp_secret",   "token",
    "access_token", "refresh_token",    "api_key",       "key_hash",     "client_secret", "private_key"};
constexpr std::array<std::string_view, 3> kSecretSuffixes = {"_password", "_secret", "_token"};

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

bool IsSecretField(std::string_view name) {
  for (auto n : kSecretNames) {
    if (name == n) return true;
  }
  for (auto s : kSecretSuffixes) {
    if (name.ends_with(s)) return true;
  }
  return false;
}

nlohmann::json Redact(const nlohmann::json& changes) {
  if (changes.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : changes) out.push_back(Redact(item));
    return out;
  }
  if (!changes.is_object()) return changes;
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : changes.items()) {
    out[key] = IsSecretField(key) ? nlohmann::json(kRedacted) : Redact(value);
  }
  return out;
}

std::int64_t Record(soci::session& s, AuditEntry entry) {
  if (entry.at == 0) entry.at = NowMs();
  entry.changes = Redact(entry.changes);
  return store::Insert(s, entry);
}

AuditPage AuditService::List(const AuditFilter& filter) {
  return db_.ReadValue([&](soci::session& s) { return store::List(s, filter); });
}

}  // namespace poste::audit
