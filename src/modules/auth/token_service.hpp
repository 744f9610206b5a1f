#pragma once
// Access and refresh tokens, with no HTTP.
//
// Access tokens: JWT HS256 (lib/crypto/jwt.hpp), 15 minutes, claims sub (user id, a string), ver (the user's
// token_version), iss "poste", aud "poste-api", iat, nbf, exp, jti. Verifying one needs no database; whether
// the user is still active and `ver` still current is the guard's business (auth_guard.hpp).
//
// Refresh tokens: RandomToken(32), stored as the hex SHA-256 of the token with a family id (one family per
// sign-in), 30 days. Refresh() rotates: the presented token is marked rotated and a new one of the same
// family is issued. Presenting a token that was already rotated means it leaked: the whole family is revoked
// and the call fails. Logout revokes the family.
//
// Functions marked "blocking" run SQL: call them through co_await blocking(...).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/crypto/jwt.hpp"
#include "modules/auth/auth_clock.hpp"

namespace poste::db {
class Database;
}

namespace poste::auth {

struct TokenOptions {
  std::string issuer = "poste";
  std::string audience = "poste-api";
  std::int64_t access_ttl_s = 15 * 60;
  std::int64_t refresh_ttl_ms = std::int64_t{30} * 24 * 3600 * 1000;
  std::int64_t leeway_s = 5;  // clock skew tolerated on exp and nbf
};

struct AccessClaims {
  std::int64_t user_id = 0;
  int token_version = 0;
  std::string jti;
  std::int64_t expires_at_s = 0;
};

// Who asked, recorded with a refresh token.
struct ClientInfo {
  std::string ip;
  std::string user_agent;
  std::string request_id;  // for the audit log
};

struct IssuedTokens {
  std::string access_token;
  std::int64_t expires_in_s = 0;  // of the access token
  std::string refresh_token;
  std::int64_t refresh_expires_at_ms = 0;
  std::int64_t user_id = 0;
};

// The stored form of a refresh token, an API key or a recovery code: lower-case hex SHA-256.
std::string HashToken(std::string_view token);

class TokenService {
 public:
  // signing_key: at least crypto::kMinJwtKeyBytes bytes (std::invalid_argument otherwise); the app derives it
  // from the master key. clock: wall time in epoch ms.
  TokenService(db::Database& db, std::string signing_key, TokenOptions options = {}, Clock clock = SystemNowMs);

  std::string IssueAccess(std::int64_t user_id, int token_version) const;
  // Checks signature (alg pinned to HS256), iss, aud, exp, nbf, and the claim types. No database.
  std::optional<AccessClaims> VerifyAccess(std::string_view token, crypto::JwtError* error = nullptr) const;

  // Blocking. Starts a new family for a user who just signed in.
  IssuedTokens IssueSession(std::int64_t user_id, int token_version, const ClientInfo& client) const;
  // Blocking. Exchanges a refresh token for a new pair. Throws AppError 401 (one message for every failure)
  // when the token is unknown, expired, revoked, already rotated (then the family is revoked first), or its
  // user is gone or inactive.
  IssuedTokens Refresh(std::string_view refresh_token, const ClientInfo& client) const;
  // Blocking. Revokes the token's family; false when the token is unknown. Idempotent.
  bool Logout(std::string_view refresh_token) const;
  // Blocking. Revokes every session of the user (password change, disable).
  std::int64_t RevokeAll(std::int64_t user_id) const;

  std::int64_t NowMs() const { return clock_(); }
  const TokenOptions& options() const { return options_; }

 private:
  db::Database& db_;
  std::string key_;
  TokenOptions options_;
  Clock clock_;
};

}  // namespace poste::auth
