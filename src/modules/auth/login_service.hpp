#pragma once
// Signing in with email + password (+ TOTP), with no HTTP. Blocking throughout (argon2id and SQL): call it
// through co_await blocking(...).
//
// - One answer (401, kBadCredentials) for an unknown email, a wrong password and an inactive user; an
//   unknown email still costs one argon2id verification (BurnPasswordVerify), so timing does not tell them
//   apart either.
// - Brute force: per-account (email key) and per-IP failure streaks (ratelimit::FailureTracker). A locked
//   key answers LockedOut (429, with the seconds to wait) before the password is even checked. Wrong
//   passwords and wrong TOTP codes count as failures; a success clears the account's streak (not the IP's).
// - TOTP, when the user enabled it: missing -> 401 with field error {totp, required}; wrong, or a code
//   already used (the store's step guard) -> 401 {totp, invalid}. A recovery code is accepted instead, once.
// - The password is rehashed when its parameters are outdated; last_login_at is updated.
// - Audit: auth.login (actor and object: the user) in the transaction of last_login_at; auth.login_failed
//   (no actor; the reason; the email as typed) for every failure after the lockout check.
#include <cstdint>
#include <optional>
#include <string>

#include "lib/crypto/password.hpp"
#include "lib/error.hpp"
#include "modules/auth/auth_clock.hpp"
#include "modules/auth/token_service.hpp"
#include "modules/users/users_types.hpp"

namespace poste::db {
class Database;
}
namespace poste::crypto {
class SecretBox;
}
namespace poste::ratelimit {
class FailureTracker;
}

namespace poste::auth {

inline constexpr const char* kBadCredentials = "The email or password is incorrect.";

// 429: too many failed sign-ins. retry_after_s is what the Retry-After header should say (>= 1).
class LockedOut : public AppError {
 public:
  explicit LockedOut(std::int64_t retry_after_s)
      : AppError(ErrorCode::kTooManyRequests, "Too many failed sign-in attempts. Try again later."),
        retry_after_s_(retry_after_s) {}
  std::int64_t retry_after_s() const { return retry_after_s_; }

 private:
  std::int64_t retry_after_s_;
};

struct LoginRequest {
  std::string email;
  std::string password;
  std::optional<std::string> totp;  // a 6-digit code or a recovery code
  ClientInfo client;
};

struct LoginResult {
  users::User user;
  IssuedTokens tokens;
};

// The associated data a user's TOTP secret is sealed under: a secret copied to another user fails to open.
std::string TotpAssociatedData(std::int64_t user_id);

class LoginService {
 public:
  // accounts and ips may be the same tracker (keys are prefixed). steady: monotonic ms for the trackers.
  LoginService(db::Database& db, const TokenService& tokens, const crypto::SecretBox& box,
               ratelimit::FailureTracker& accounts, ratelimit::FailureTracker& ips, crypto::PasswordParams params = {},
               Clock steady = SteadyNowMs);

  LoginResult Login(const LoginRequest& request);

  // Checks a TOTP code or a recovery code for a user with TOTP enabled (spends it). False when wrong or
  // replayed.
  bool CheckSecondFactor(const users::UserAuth& user, const std::string& input);

 private:
  // Counts the failure for the account and the IP and writes an auth.login_failed audit entry.
  void Fail(const LoginRequest& request, std::optional<std::int64_t> user_id, const std::string& reason,
            const std::string& account_key, const std::string& ip_key);

  db::Database& db_;
  const TokenService& tokens_;
  const crypto::SecretBox& box_;
  ratelimit::FailureTracker& accounts_;
  ratelimit::FailureTracker& ips_;
  crypto::PasswordParams params_;
  Clock steady_;
};

}  // namespace poste::auth
