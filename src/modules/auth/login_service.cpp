#include "modules/auth/login_service.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "db/database.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/crypto/totp.hpp"
#include "lib/ratelimit/backoff.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/users/users_store.hpp"
#include "modules/users/users_tokens_store.hpp"

namespace poste::auth {

namespace {

AppError BadCredentials(std::string detail) {
  return AppError(ErrorCode::kUnauthorized, kBadCredentials, std::move(detail));
}

audit::Origin OriginOf(const ClientInfo& client, std::optional<std::int64_t> user_id) {
  audit::Origin origin;
  origin.user_id = user_id;
  origin.ip = client.ip;
  origin.request_id = client.request_id;
  return origin;
}

bool LooksLikeTotpCode(const std::string& s) {
  return s.size() == 6 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::string TotpAssociatedData(std::int64_t user_id) { return "user:" + std::to_string(user_id) + ":totp"; }

LoginService::LoginService(db::Database& db, const TokenService& tokens, const crypto::SecretBox& box,
                           ratelimit::FailureTracker& accounts, ratelimit::FailureTracker& ips,
                           crypto::PasswordParams params, Clock steady)
    : db_(db),
      tokens_(tokens),
      box_(box),
      accounts_(accounts),
      ips_(ips),
      params_(params),
      steady_(steady ? std::move(steady) : Clock(SteadyNowMs)) {}

void LoginService::Fail(const LoginRequest& request, std::optional<std::int64_t> user_id, const std::string& reason,
                        const std::string& account_key, const std::string& ip_key) {
  const std::int64_t now = steady_();
  accounts_.RecordFailure(account_key, now);
  ips_.RecordFailure(ip_key, now);
  // No actor (nobody signed in); the object is the account when it exists. The email is kept as typed (cut
  // to the column's length) so that attacks on unknown accounts show in the log too.
  nlohmann::json changes = {{"email", request.email.substr(0, 320)}, {"reason", reason}};
  db_.Write([&](soci::session& s) {
    audit::Record(s, audit::EntryFrom(OriginOf(request.client, std::nullopt), "auth.login_failed", "user",
                                      user_id ? std::to_string(*user_id) : "", std::nullopt, changes));
  });
}

bool LoginService::CheckSecondFactor(const users::UserAuth& user, const std::string& input) {
  if (!user.totp_secret) return false;
  const std::int64_t now_ms = tokens_.NowMs();
  if (LooksLikeTotpCode(input)) {
    std::string secret = box_.Open(*user.totp_secret, TotpAssociatedData(user.id));
    auto step = crypto::VerifyTotp(secret, input, now_ms / 1000);
    if (!step) return false;
    return db_.WriteValue([&](soci::session& s) { return users::store::AcceptTotpStep(s, user.id, *step); });
  }
  auto code = crypto::NormalizeRecoveryCode(input);
  if (!code) return false;
  const std::string hash = HashToken(*code);
  return db_.WriteValue([&](soci::session& s) { return users::store::UseRecoveryCode(s, user.id, hash, now_ms); });
}

LoginResult LoginService::Login(const LoginRequest& request) {
  const std::string account_key = "login:acct:" + users::EmailKey(request.email);
  const std::string ip_key = "login:ip:" + request.client.ip;
  const std::int64_t locked = std::max(accounts_.LockedFor(account_key, steady_()), ips_.LockedFor(ip_key, steady_()));
  if (locked > 0) throw LockedOut(std::max<std::int64_t>(1, (locked + 999) / 1000));

  auto auth = db_.ReadValue([&](soci::session& s) { return users::store::GetAuthByEmailKey(s, request.email); });
  if (!auth) {
    crypto::BurnPasswordVerify(request.password, params_);
    Fail(request, std::nullopt, "unknown_email", account_key, ip_key);
    throw BadCredentials("unknown email");
  }
  if (!crypto::VerifyPassword(auth->password_hash, request.password)) {
    Fail(request, auth->id, "wrong_password", account_key, ip_key);
    throw BadCredentials("wrong password for user " + std::to_string(auth->id));
  }
  if (!auth->active) {
    Fail(request, auth->id, "inactive", account_key, ip_key);
    throw BadCredentials("inactive user " + std::to_string(auth->id));
  }
  if (auth->totp_enabled) {
    if (!request.totp || request.totp->empty()) {
      throw AppError(ErrorCode::kUnauthorized, "A second factor (TOTP code) is required.", {},
                     {{"totp", "required", "enter the code of your authenticator app or a recovery code"}});
    }
    if (!CheckSecondFactor(*auth, *request.totp)) {
      Fail(request, auth->id, "wrong_totp", account_key, ip_key);
      throw AppError(ErrorCode::kUnauthorized, "The second factor is incorrect.",
                     "wrong or replayed TOTP for user " + std::to_string(auth->id),
                     {{"totp", "invalid", "the code is wrong, expired or already used"}});
    }
  }
  accounts_.RecordSuccess(account_key);

  const std::int64_t now = tokens_.NowMs();
  std::optional<std::string> rehash;
  if (crypto::NeedsRehash(auth->password_hash, params_)) rehash = crypto::HashPassword(request.password, params_);
  auto user = db_.WriteValue([&](soci::session& s) {
    if (rehash) users::store::SetPasswordHash(s, auth->id, *rehash, now);
    users::store::TouchLastLogin(s, auth->id, now);
    audit::Record(s,
                  audit::EntryFrom(OriginOf(request.client, auth->id), "auth.login", "user", std::to_string(auth->id),
                                   std::nullopt,
                                   {{"password_rehashed", rehash.has_value()}, {"second_factor", auth->totp_enabled}}));
    return users::store::GetById(s, auth->id);
  });
  if (!user) throw BadCredentials("user deleted during sign-in");
  LoginResult result{std::move(*user), tokens_.IssueSession(auth->id, auth->token_version, request.client)};
  return result;
}

}  // namespace poste::auth
