#pragma once
// The users table and the user <-> site assignment (user_sites), SQL and nothing else. Every function runs on
// a session the caller got from Database::Write (or Read for the queries), so that a service can write the
// change and its audit row in one transaction. Times are passed in (epoch ms), so tests control the clock.
// Input is stored as given: validation (users_types.hpp) is the caller's job.
// Sessions, API keys and recovery codes: users_tokens_store.hpp.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/users/users_types.hpp"

namespace soci {
class session;
}

namespace poste::users::store {

// The new user's id. The email is stored trimmed and keyed with EmailKey; an address that differs from an
// existing one only by case throws AppError::Conflict with field "email". new_user.site_ids are assigned as
// SetSites does (unknown ids: AppError::Validation, field "site_ids").
std::int64_t Insert(soci::session& s, const NewUser& new_user, std::int64_t now_ms);

std::optional<User> GetById(soci::session& s, std::int64_t id);
std::optional<UserAuth> GetAuthById(soci::session& s, std::int64_t id);
// Case-insensitive: takes an address as typed or its EmailKey.
std::optional<UserAuth> GetAuthByEmailKey(soci::session& s, std::string_view email);

struct ListOptions {
  int limit = 50;                       // clamped to 1..kMaxListLimit
  std::optional<std::int64_t> cursor;   // the next_cursor of the previous page: users with a smaller id
  std::optional<std::int64_t> site_id;  // only users assigned to this site
  std::optional<std::string> role;
  std::optional<bool> active;
};
inline constexpr int kMaxListLimit = 200;

struct UserPage {
  std::vector<User> items;                  // newest (highest id) first
  std::optional<std::int64_t> next_cursor;  // set when more users follow
};
UserPage List(soci::session& s, const ListOptions& options);

// Applies the fields the patch sets and returns the user as stored, or nullopt when there is no such user.
// A new email taken by another user (in any case) throws AppError::Conflict with field "email".
std::optional<User> Update(soci::session& s, std::int64_t id, const UserPatch& patch, std::int64_t now_ms);

// Everything of the user goes with it (sites, sessions, keys, recovery codes); audit rows stay.
bool Delete(soci::session& s, std::int64_t id);

// Replaces the user's sites with site_ids (duplicates ignored). False when there is no such user. Throws
// AppError::Validation with field "site_ids" naming the ids that are not sites; nothing changes then.
bool SetSites(soci::session& s, std::int64_t user_id, const std::vector<std::int64_t>& site_ids);
std::vector<std::int64_t> SitesOf(soci::session& s, std::int64_t user_id);  // ascending

std::int64_t CountUsers(soci::session& s);
// Active admins: a service refuses to demote, disable or delete the last one. Inside a Write, on PostgreSQL,
// it locks their rows until the transaction ends (so concurrent demotions are serialised).
std::int64_t CountActiveAdmins(soci::session& s);

// Each returns false when there is no such user.
// Sets the hash and password_changed_at; revoking sessions is the caller's choice (BumpTokenVersion,
// RevokeAllForUser).
bool SetPasswordHash(soci::session& s, std::int64_t id, const std::string& password_hash, std::int64_t now_ms);
bool TouchLastLogin(soci::session& s, std::int64_t id, std::int64_t now_ms);
// The new token version; every access token carrying an older one is then refused.
std::optional<int> BumpTokenVersion(soci::session& s, std::int64_t id);
// Stores the sealed secret (nullopt clears it) and whether TOTP is required at login; clears the replay guard.
bool SetTotp(soci::session& s, std::int64_t id, const std::optional<std::string>& sealed_secret, bool enabled,
             std::int64_t now_ms);
// The replay guard: records `step` and returns true only when it is later than the last accepted step, so a
// code (or an earlier one) is accepted once, even by two concurrent logins.
bool AcceptTotpStep(soci::session& s, std::int64_t id, std::int64_t step);

}  // namespace poste::users::store
