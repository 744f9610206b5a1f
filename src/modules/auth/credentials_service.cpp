#include "modules/auth/credentials_service.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "db/database.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/password.hpp"
#include "lib/crypto/random.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/crypto/totp.hpp"
#include "lib/error.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/auth/login_service.hpp"
#include "modules/users/users_store.hpp"
#include "modules/users/users_tokens_store.hpp"

namespace poste::auth {

namespace {

constexpr std::size_t kApiKeyPrefixShown = 12;  // "pst_" + 8 characters

users::UserAuth RequireUser(db::Database& db, std::int64_t user_id) {
  auto auth = db.ReadValue([&](soci::session& s) { return users::store::GetAuthById(s, user_id); });
  if (!auth) throw AppError::NotFound("No such user.");
  return *auth;
}

}  // namespace

CredentialsService::CredentialsService(db::Database& db, const TokenService& tokens, const crypto::SecretBox& box,
                                       std::string totp_issuer)
    : db_(db), tokens_(tokens), box_(box), issuer_(std::move(totp_issuer)) {}

CreatedApiKey CredentialsService::CreateApiKey(const web::Principal& caller, const audit::Origin& origin,
                                               const std::string& name, const std::vector<std::int64_t>& site_ids,
                                               std::optional<std::int64_t> expires_at,
                                               const SiteResolver& site_exists) {
  std::vector<std::int64_t> outside;
  for (auto id : site_ids) {
    bool ok = caller.admin ? (!site_exists || site_exists(std::to_string(id)).has_value()) : caller.CanAccessSite(id);
    if (!ok) outside.push_back(id);
  }
  if (!outside.empty()) {
    std::string list;
    for (auto id : outside) list += (list.empty() ? "" : ", ") + std::to_string(id);
    throw AppError::Validation({{"site_ids", "forbidden_site", "not among your sites: " + list}});
  }
  CreatedApiKey out;
  out.secret = std::string(kApiKeyPrefix) + crypto::RandomToken(32);
  users::NewApiKey row{caller.user_id,        name,     out.secret.substr(0, kApiKeyPrefixShown),
                       HashToken(out.secret), site_ids, expires_at};
  std::sort(row.site_ids.begin(), row.site_ids.end());
  const std::int64_t now = tokens_.NowMs();
  out.key = db_.WriteValue([&](soci::session& s) {
    auto id = users::store::InsertApiKey(s, row, now);
    nlohmann::json changes = {{"name", row.name}, {"prefix", row.prefix}, {"site_ids", row.site_ids}};
    if (expires_at) changes["expires_at"] = *expires_at;
    audit::Record(s, audit::EntryFrom(origin, "api_key.create", "api_key", std::to_string(id), std::nullopt, changes));
    for (auto& k : users::store::ListApiKeys(s, caller.user_id)) {
      if (k.id == id) return k;
    }
    throw AppError::Internal("api key vanished after insert");
  });
  return out;
}

std::vector<users::ApiKey> CredentialsService::ListApiKeys(std::int64_t user_id) {
  return db_.ReadValue([&](soci::session& s) { return users::store::ListApiKeys(s, user_id); });
}

bool CredentialsService::RevokeApiKey(std::int64_t user_id, std::int64_t key_id, const audit::Origin& origin) {
  const std::int64_t now = tokens_.NowMs();
  return db_.WriteValue([&](soci::session& s) {
    if (!users::store::RevokeApiKey(s, user_id, key_id, now)) return false;
    audit::Record(s, audit::EntryFrom(origin, "api_key.revoke", "api_key", std::to_string(key_id), std::nullopt,
                                      nlohmann::json::object()));
    return true;
  });
}

TotpSetup CredentialsService::SetupTotp(std::int64_t user_id) {
  auto auth = RequireUser(db_, user_id);
  if (auth.totp_enabled) throw AppError::Conflict("Two-factor authentication is already enabled. Disable it first.");
  std::string secret = crypto::GenerateTotpSecret();
  std::string sealed = box_.Seal(secret, TotpAssociatedData(user_id));
  const std::int64_t now = tokens_.NowMs();
  db_.Write([&](soci::session& s) { users::store::SetTotp(s, user_id, sealed, false, now); });
  return {crypto::Base32Encode(secret), crypto::ProvisioningUri(issuer_, auth.email, secret)};
}

std::vector<std::string> CredentialsService::ConfirmTotp(std::int64_t user_id, const std::string& code,
                                                         const audit::Origin& origin) {
  auto auth = RequireUser(db_, user_id);
  if (auth.totp_enabled) throw AppError::Conflict("Two-factor authentication is already enabled.");
  if (!auth.totp_secret) throw AppError::Conflict("Start the setup first (POST /api/v1/auth/totp/setup).");
  std::string secret = box_.Open(*auth.totp_secret, TotpAssociatedData(user_id));
  const std::int64_t now = tokens_.NowMs();
  auto step = crypto::VerifyTotp(secret, code, now / 1000);
  if (!step) throw AppError::Validation({{"code", "invalid", "the code does not match; check the device's clock"}});
  auto codes = crypto::GenerateRecoveryCodes(10);
  std::vector<std::string> hashes;
  for (const auto& c : codes) hashes.push_back(HashToken(*crypto::NormalizeRecoveryCode(c)));
  db_.Write([&](soci::session& s) {
    users::store::SetTotp(s, user_id, *auth.totp_secret, true, now);
    users::store::AcceptTotpStep(s, user_id, *step);  // the confirming code cannot sign in again
    users::store::ReplaceRecoveryCodes(s, user_id, hashes);
    audit::Record(s, audit::EntryFrom(origin, "user.totp.enable", "user", std::to_string(user_id), std::nullopt,
                                      {{"totp_enabled", true}}));
  });
  return codes;
}

void CredentialsService::DisableTotp(std::int64_t user_id, const std::string& password, const audit::Origin& origin) {
  auto auth = RequireUser(db_, user_id);
  if (!crypto::VerifyPassword(auth.password_hash, password)) {
    throw AppError::Validation({{"password", "invalid", "the password is incorrect"}});
  }
  const std::int64_t now = tokens_.NowMs();
  db_.Write([&](soci::session& s) {
    users::store::SetTotp(s, user_id, std::nullopt, false, now);
    users::store::ReplaceRecoveryCodes(s, user_id, {});
    audit::Record(s, audit::EntryFrom(origin, "user.totp.disable", "user", std::to_string(user_id), std::nullopt,
                                      {{"totp_enabled", false}}));
  });
}

}  // namespace poste::auth
