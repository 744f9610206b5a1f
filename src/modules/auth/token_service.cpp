#include "modules/auth/token_service.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "db/database.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/crypto/random.hpp"
#include "lib/error.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/users/users_store.hpp"
#include "modules/users/users_tokens_store.hpp"

namespace poste::auth {

namespace {

constexpr const char* kRefreshFailed = "The refresh token is invalid or expired. Sign in again.";

AppError RefreshFailed(std::string detail) {
  return AppError(ErrorCode::kUnauthorized, kRefreshFailed, std::move(detail));
}

// A rotated refresh token presented again: someone else holds a copy. The family is revoked; the owner sees
// this entry in the audit log (no actor: the presenter is unknown).
void RecordReuse(soci::session& s, const users::RefreshToken& token, const ClientInfo& client) {
  audit::Origin origin;
  origin.ip = client.ip;
  origin.request_id = client.request_id;
  audit::Record(s, audit::EntryFrom(origin, "auth.refresh_reuse", "user", std::to_string(token.user_id), std::nullopt,
                                    {{"family_revoked", true}}));
}

}  // namespace

std::string HashToken(std::string_view token) { return crypto::HexEncode(crypto::Sha256(token)); }

TokenService::TokenService(db::Database& db, std::string signing_key, TokenOptions options, Clock clock)
    : db_(db), key_(std::move(signing_key)), options_(std::move(options)), clock_(std::move(clock)) {
  if (key_.size() < crypto::kMinJwtKeyBytes) throw std::invalid_argument("the JWT signing key is too short");
  if (!clock_) clock_ = SystemNowMs;
}

std::string TokenService::IssueAccess(std::int64_t user_id, int token_version) const {
  const std::int64_t now_s = clock_() / 1000;
  nlohmann::json claims = {
      {"sub", std::to_string(user_id)},
      {"ver", token_version},
      {"iss", options_.issuer},
      {"aud", options_.audience},
      {"iat", now_s},
      {"nbf", now_s},
      {"exp", now_s + options_.access_ttl_s},
      {"jti", crypto::RandomToken(12)},
  };
  return crypto::SignJwt(claims, key_);
}

std::optional<AccessClaims> TokenService::VerifyAccess(std::string_view token, crypto::JwtError* error) const {
  crypto::JwtVerifyOptions verify{options_.issuer, options_.audience, clock_() / 1000, options_.leeway_s};
  auto result = crypto::VerifyJwt(token, key_, verify);
  if (error) *error = result.error;
  if (!result.ok()) return std::nullopt;
  const auto& c = result.claims;
  auto sub = c.find("sub");
  auto ver = c.find("ver");
  auto exp = c.find("exp");
  if (sub == c.end() || !sub->is_string() || ver == c.end() || !ver->is_number_integer() || exp == c.end() ||
      !exp->is_number()) {
    if (error) *error = crypto::JwtError::kMalformed;
    return std::nullopt;
  }
  const auto& text = sub->get_ref<const std::string&>();
  AccessClaims out;
  try {
    std::size_t used = 0;
    out.user_id = std::stoll(text, &used);
    if (used != text.size() || out.user_id <= 0) throw std::invalid_argument("sub");
  } catch (const std::exception&) {
    if (error) *error = crypto::JwtError::kMalformed;
    return std::nullopt;
  }
  out.token_version = ver->get<int>();
  if (auto jti = c.find("jti"); jti != c.end() && jti->is_string()) out.jti = jti->get<std::string>();
  out.expires_at_s = exp->get<std::int64_t>();
  return out;
}

IssuedTokens TokenService::IssueSession(std::int64_t user_id, int token_version, const ClientInfo& client) const {
  const std::int64_t now = clock_();
  IssuedTokens out;
  out.user_id = user_id;
  out.refresh_token = crypto::RandomToken(32);
  out.refresh_expires_at_ms = now + options_.refresh_ttl_ms;
  users::NewRefreshToken row{
      user_id,   crypto::RandomToken(16), HashToken(out.refresh_token), out.refresh_expires_at_ms,
      client.ip, client.user_agent};
  db_.Write([&](soci::session& s) { users::store::InsertRefreshToken(s, row, now); });
  out.access_token = IssueAccess(user_id, token_version);
  out.expires_in_s = options_.access_ttl_s;
  return out;
}

IssuedTokens TokenService::Refresh(std::string_view refresh_token, const ClientInfo& client) const {
  enum class Outcome { kOk, kUnknown, kRevoked, kExpired, kReused, kUserGone };
  const std::int64_t now = clock_();
  const std::string hash = HashToken(refresh_token);
  IssuedTokens out;
  int version = 0;
  std::string next = crypto::RandomToken(32);
  // The reuse revocation must commit, so failures are returned from the transaction and thrown after it.
  Outcome outcome = db_.WriteValue([&](soci::session& s) {
    auto token = users::store::FindRefreshTokenByHash(s, hash);
    if (!token) return Outcome::kUnknown;
    if (token->revoked_at) return Outcome::kRevoked;
    if (token->rotated_at) {
      users::store::RevokeFamily(s, token->family_id, now);
      RecordReuse(s, *token, client);
      return Outcome::kReused;
    }
    if (token->expires_at <= now) return Outcome::kExpired;
    auto user = users::store::GetAuthById(s, token->user_id);
    if (!user || !user->active) {
      users::store::RevokeFamily(s, token->family_id, now);
      return Outcome::kUserGone;
    }
    if (!users::store::MarkRotated(s, token->id, now)) {
      // A concurrent exchange of the same token won: one of the two holders is not the owner.
      users::store::RevokeFamily(s, token->family_id, now);
      RecordReuse(s, *token, client);
      return Outcome::kReused;
    }
    out.user_id = user->id;
    out.refresh_expires_at_ms = now + options_.refresh_ttl_ms;
    users::NewRefreshToken row{user->id,  token->family_id, HashToken(next), out.refresh_expires_at_ms,
                               client.ip, client.user_agent};
    users::store::InsertRefreshToken(s, row, now);
    version = user->token_version;
    return Outcome::kOk;
  });
  switch (outcome) {
    case Outcome::kOk:
      break;
    case Outcome::kUnknown:
      throw RefreshFailed("unknown refresh token");
    case Outcome::kRevoked:
      throw RefreshFailed("revoked refresh token");
    case Outcome::kExpired:
      throw RefreshFailed("expired refresh token");
    case Outcome::kReused:
      throw RefreshFailed("refresh token reused: family revoked");
    case Outcome::kUserGone:
      throw RefreshFailed("user gone or inactive");
  }
  out.refresh_token = std::move(next);
  out.access_token = IssueAccess(out.user_id, version);
  out.expires_in_s = options_.access_ttl_s;
  return out;
}

bool TokenService::Logout(std::string_view refresh_token) const {
  const std::int64_t now = clock_();
  const std::string hash = HashToken(refresh_token);
  return db_.WriteValue([&](soci::session& s) {
    auto token = users::store::FindRefreshTokenByHash(s, hash);
    if (!token) return false;
    users::store::RevokeFamily(s, token->family_id, now);
    return true;
  });
}

std::int64_t TokenService::RevokeAll(std::int64_t user_id) const {
  const std::int64_t now = clock_();
  return db_.WriteValue([&](soci::session& s) { return users::store::RevokeAllForUser(s, user_id, now); });
}

}  // namespace poste::auth
