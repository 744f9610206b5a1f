#pragma once
// The users module's structs, their JSON mapping and their validation. Storage is in users_store.hpp and
// users_tokens_store.hpp; nothing here touches the database.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::users {

inline constexpr std::string_view kRoleAdmin = "admin";
inline constexpr std::string_view kRoleEditor = "editor";

inline constexpr std::size_t kMaxEmailBytes = 254;      // RFC 5321 path limit
inline constexpr std::size_t kMaxEmailLocalBytes = 64;  // RFC 5321 local-part limit
inline constexpr std::size_t kMaxNameChars = 200;       // code points

// What the API shows of a user: never the password hash, the TOTP secret or the token version.
struct User {
  std::int64_t id = 0;
  std::string email;  // as given, trimmed
  std::string name;
  std::string role;  // "admin" | "editor"
  bool active = true;
  bool totp_enabled = false;
  int token_version = 0;               // in access tokens; not serialised
  std::vector<std::int64_t> site_ids;  // ascending
  std::int64_t created_at = 0;         // epoch ms
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> last_login_at;
};

// What signing in needs. Kept apart from User so that the hash and the secret travel only where they are used.
struct UserAuth {
  std::int64_t id = 0;
  std::string email;
  std::string password_hash;
  std::string role;
  bool active = true;
  int token_version = 0;
  bool totp_enabled = false;
  std::optional<std::string> totp_secret;  // sealed
  std::optional<std::int64_t> totp_last_step;
  std::int64_t password_changed_at = 0;
};

struct NewUser {
  std::string email;  // trimmed and keyed by the store
  std::string name;
  std::string password_hash;  // already hashed (argon2id) by the caller
  std::string role = std::string(kRoleEditor);
  bool active = true;
  std::vector<std::int64_t> site_ids;
};

// Absent = unchanged. Sites are replaced with users::store::SetSites, the password with SetPasswordHash.
struct UserPatch {
  std::optional<std::string> email;
  std::optional<std::string> name;
  std::optional<std::string> role;
  std::optional<bool> active;
};

// A personal API key as listed (never its hash).
struct ApiKey {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string name;
  std::string prefix;                  // the first characters of the key, to recognise it in a list
  std::vector<std::int64_t> site_ids;  // empty = every site of the user
  std::int64_t created_at = 0;
  std::optional<std::int64_t> last_used_at;
  std::optional<std::int64_t> revoked_at;
  std::optional<std::int64_t> expires_at;

  // Neither revoked nor expired at now_ms.
  bool UsableAt(std::int64_t now_ms) const;
};

struct NewApiKey {
  std::int64_t user_id = 0;
  std::string name;
  std::string prefix;
  std::string key_hash;
  std::vector<std::int64_t> site_ids;
  std::optional<std::int64_t> expires_at;
};

struct RefreshToken {
  std::int64_t id = 0;
  std::int64_t user_id = 0;
  std::string family_id;
  std::string token_hash;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
  std::optional<std::int64_t> rotated_at;  // set when exchanged for the next token of the family
  std::optional<std::int64_t> revoked_at;
  std::string ip;
  std::string user_agent;
};

struct NewRefreshToken {
  std::int64_t user_id = 0;
  std::string family_id;
  std::string token_hash;
  std::int64_t expires_at = 0;
  std::string ip;
  std::string user_agent;
};

// {id, email, name, role, active, totp_enabled, site_ids, created_at, updated_at, last_login_at|null}.
nlohmann::json ToJson(const User& user);
// {id, name, prefix, site_ids, created_at, last_used_at, revoked_at, expires_at} (nulls where unset).
nlohmann::json ToJson(const ApiKey& key);

// The address as stored: surrounding ASCII whitespace removed.
std::string TrimEmail(std::string_view email);
// The uniqueness key: the trimmed address with ASCII letters lower-cased (the whole address, local part
// included, so Foo@X.com and foo@x.com are one account). EmailKey(EmailKey(e)) == EmailKey(e).
std::string EmailKey(std::string_view email);

// Field validation. Each returns the errors of one field (empty when valid), named `field`.
// A deliberately small, strict email check: one '@', a local part of 1..64 bytes, a domain of dot-separated
// labels of letters, digits and hyphens, at most 254 bytes, no spaces or control characters. Applied to the
// trimmed address.
std::vector<FieldError> ValidateEmail(std::string_view email, std::string_view field = "email");
// 1..200 code points of valid UTF-8, not only spaces, no control characters.
std::vector<FieldError> ValidateName(std::string_view name, std::string_view field = "name");
std::vector<FieldError> ValidateRole(std::string_view role, std::string_view field = "role");
// Positive and unique.
std::vector<FieldError> ValidateSiteIds(const std::vector<std::int64_t>& site_ids, std::string_view field = "site_ids");

// Every field of a new user / of the fields a patch sets (the password is checked where it is hashed).
std::vector<FieldError> Validate(const NewUser& user);
std::vector<FieldError> Validate(const UserPatch& patch);

}  // namespace poste::users
