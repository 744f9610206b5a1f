#pragma once
// A signed-in user's own credentials besides the password: personal API keys and the TOTP second factor.
// No HTTP; blocking (SQL, argon2id): call through co_await blocking(...). Every change writes its audit entry
// (api_key.create, api_key.revoke, user.totp.enable, user.totp.disable) in the change's transaction.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/web/principal.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/auth/auth_guard.hpp"
#include "modules/auth/token_service.hpp"
#include "modules/users/users_types.hpp"

namespace poste::db {
class Database;
}
namespace poste::crypto {
class SecretBox;
}

namespace poste::auth {

struct CreatedApiKey {
  users::ApiKey key;
  std::string secret;  // "pst_..." : shown once, never stored
};

struct TotpSetup {
  std::string secret;  // base32, for typing into an app
  std::string uri;     // otpauth://..., for a QR code
};

class CredentialsService {
 public:
  CredentialsService(db::Database& db, const TokenService& tokens, const crypto::SecretBox& box,
                     std::string totp_issuer = "Poste");

  // site_ids must be sites the caller can access (an admin: existing sites, checked with site_exists when
  // given); otherwise AppError::Validation on "site_ids". Empty: every site of the user.
  CreatedApiKey CreateApiKey(const web::Principal& caller, const audit::Origin& origin, const std::string& name,
                             const std::vector<std::int64_t>& site_ids, std::optional<std::int64_t> expires_at,
                             const SiteResolver& site_exists);
  std::vector<users::ApiKey> ListApiKeys(std::int64_t user_id);
  // False when the key is not the user's.
  bool RevokeApiKey(std::int64_t user_id, std::int64_t key_id, const audit::Origin& origin);

  // Stores a new secret, pending (not required at login) until confirmed. 409 when TOTP is already enabled.
  TotpSetup SetupTotp(std::int64_t user_id);
  // Enables TOTP when `code` matches the pending secret, and returns 10 new recovery codes (shown once).
  // 409 when nothing is pending or TOTP is already on; 422 {code, invalid} on a wrong code.
  std::vector<std::string> ConfirmTotp(std::int64_t user_id, const std::string& code, const audit::Origin& origin);
  // Turns TOTP off and deletes the recovery codes after checking the password (422 {password, invalid}).
  void DisableTotp(std::int64_t user_id, const std::string& password, const audit::Origin& origin);

 private:
  db::Database& db_;
  const TokenService& tokens_;
  const crypto::SecretBox& box_;
  std::string issuer_;
};

}  // namespace poste::auth
