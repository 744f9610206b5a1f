#pragma once
// The credentials a user holds besides the password: refresh tokens (sessions), personal API keys and TOTP
// recovery codes. SQL and nothing else, on the caller's session (see users_store.hpp). Tokens, keys and codes
// are stored only as hashes computed by the caller; a lookup is by that hash.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modules/users/users_types.hpp"

namespace soci {
class session;
}

namespace poste::users::store {

// Refresh tokens. A family is one sign-in: each exchange marks the presented token rotated and inserts the
// next one with the same family_id. Presenting a rotated token again means it leaked: revoke the family.
std::int64_t InsertRefreshToken(soci::session& s, const NewRefreshToken& token, std::int64_t now_ms);
// The row whatever its state (rotated, revoked, expired): the caller tells reuse from a plain miss.
std::optional<RefreshToken> FindRefreshTokenByHash(soci::session& s, const std::string& token_hash);
// Marks the token rotated unless it already was or is revoked, and returns whether this call did: of two
// concurrent exchanges of one token only one wins.
bool MarkRotated(soci::session& s, std::int64_t token_id, std::int64_t now_ms);
// The number of tokens revoked (those already revoked keep their time).
std::int64_t RevokeFamily(soci::session& s, const std::string& family_id, std::int64_t now_ms);
std::int64_t RevokeAllForUser(soci::session& s, std::int64_t user_id, std::int64_t now_ms);
// Housekeeping: deletes the tokens that expired before `before_ms`; returns how many.
std::int64_t DeleteExpiredRefreshTokens(soci::session& s, std::int64_t before_ms);

// API keys.
std::int64_t InsertApiKey(soci::session& s, const NewApiKey& key, std::int64_t now_ms);
// The key whatever its state: check ApiKey::UsableAt.
std::optional<ApiKey> FindApiKeyByHash(soci::session& s, const std::string& key_hash);
// The user's keys, newest first, revoked ones included.
std::vector<ApiKey> ListApiKeys(soci::session& s, std::int64_t user_id);
// True when the key is the user's (now revoked, or already revoked earlier); false for another user's key or
// no key, which is left untouched.
bool RevokeApiKey(soci::session& s, std::int64_t user_id, std::int64_t key_id, std::int64_t now_ms);
void TouchApiKey(soci::session& s, std::int64_t key_id, std::int64_t now_ms);

// Recovery codes: a new set replaces the old one entirely.
void ReplaceRecoveryCodes(soci::session& s, std::int64_t user_id, const std::vector<std::string>& code_hashes);
// Spends one unused code of the user with this hash; false when there is none (unknown or already used).
bool UseRecoveryCode(soci::session& s, std::int64_t user_id, const std::string& code_hash, std::int64_t now_ms);
std::int64_t CountUnusedRecoveryCodes(soci::session& s, std::int64_t user_id);

}  // namespace poste::users::store
