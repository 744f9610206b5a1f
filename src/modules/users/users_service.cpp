#include "modules/users/users_service.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "db/database.hpp"
#include "lib/crypto/random.hpp"
#include "lib/error.hpp"
#include "lib/validate/email.hpp"
#include "lib/validate/password_policy.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/users/users_tokens_store.hpp"

namespace poste::users {

namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AppError Forbidden(std::string message) { return AppError(ErrorCode::kForbidden, std::move(message)); }

void RequireAdmin(const web::Principal& caller) {
  if (!caller.admin) throw Forbidden("Only administrators may manage users.");
}

void ThrowIfAny(std::vector<FieldError> errors) {
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
}

void CheckPassword(std::vector<FieldError>& errors, const std::string& password, const std::string& email) {
  if (auto why = validate::CheckPasswordStrength(password, email)) {
    errors.push_back({"password", "weak_password", *why});
  }
}

AppError LastAdmin() {
  return AppError::Conflict("This is the last active administrator: appoint another one first.",
                            {{"role", "last_admin", "at least one active administrator must remain"}});
}

std::vector<std::int64_t> Sorted(std::vector<std::int64_t> ids) {
  std::set<std::int64_t> unique(ids.begin(), ids.end());
  return {unique.begin(), unique.end()};
}

nlohmann::json Change(const nlohmann::json& from, const nlohmann::json& to) { return {{"from", from}, {"to", to}}; }

}  // namespace

UsersService::UsersService(db::Database& db, crypto::PasswordParams params, UserChanged on_change)
    : db_(db), params_(params), on_change_(std::move(on_change)) {}

store::UserPage UsersService::List(const web::Principal& caller, const store::ListOptions& options) {
  RequireAdmin(caller);
  return db_.ReadValue([&](soci::session& s) { return store::List(s, options); });
}

User UsersService::Get(const web::Principal& caller, std::int64_t id) {
  if (!caller.admin && caller.user_id != id) throw Forbidden("You may only read your own account.");
  auto user = db_.ReadValue([&](soci::session& s) { return store::GetById(s, id); });
  if (!user) throw AppError::NotFound("No such user.");
  return *user;
}

User UsersService::Create(const web::Principal& caller, const audit::Origin& origin, const CreateUser& request) {
  RequireAdmin(caller);
  NewUser nu;
  nu.email = validate::NormalizeEmail(request.email);
  nu.name = request.name;
  nu.role = request.role;
  nu.active = request.active;
  nu.site_ids = request.site_ids;
  auto errors = Validate(nu);
  CheckPassword(errors, request.password, nu.email);
  ThrowIfAny(std::move(errors));
  nu.password_hash = crypto::HashPassword(request.password, params_);  // slow: outside the transaction
  const auto now = NowMs();
  return db_.WriteValue([&](soci::session& s) {
    const auto id = store::Insert(s, nu, now);
    auto user = store::GetById(s, id);
    if (!user) throw AppError::Internal("user vanished after insert");
    audit::Record(s, audit::EntryFrom(origin, "user.create", "user", std::to_string(id), std::nullopt,
                                      {{"email", user->email},
                                       {"name", user->name},
                                       {"role", user->role},
                                       {"active", user->active},
                                       {"site_ids", user->site_ids},
                                       {"password", "set"}}));
    return *user;
  });
}

User UsersService::Update(const web::Principal& caller, const audit::Origin& origin, std::int64_t id,
                          const UpdateUser& request) {
  const bool self = caller.user_id == id;
  if (!caller.admin && !self) throw Forbidden("You may only change your own account.");
  if (!caller.admin && (request.role || request.site_ids || request.active)) {
    throw Forbidden("Only administrators may change a role, the assigned sites or the active flag.");
  }

  UserPatch patch;
  if (request.email) patch.email = validate::NormalizeEmail(*request.email);
  patch.name = request.name;
  patch.role = request.role;
  patch.active = request.active;
  auto errors = Validate(patch);
  if (request.site_ids) {
    auto site_errors = ValidateSiteIds(*request.site_ids);
    errors.insert(errors.end(), site_errors.begin(), site_errors.end());
  }

  auto current = db_.ReadValue([&](soci::session& s) { return store::GetAuthById(s, id); });
  if (!current) throw AppError::NotFound("No such user.");

  std::optional<std::string> new_hash;
  if (request.password) {
    CheckPassword(errors, *request.password, patch.email.value_or(current->email));
    if (self) {
      if (!request.current_password || request.current_password->empty()) {
        errors.push_back({"current_password", "required", "your current password is required to change it"});
      } else if (!crypto::VerifyPassword(current->password_hash, *request.current_password)) {
        errors.push_back({"current_password", "mismatch", "the current password is not correct"});
      }
    }
    ThrowIfAny(std::move(errors));
    new_hash = crypto::HashPassword(*request.password, params_);
  }
  ThrowIfAny(std::move(errors));

  const auto now = NowMs();
  bool access_changed = false;
  auto updated = db_.WriteValue([&](soci::session& s) {
    auto before = store::GetById(s, id);
    if (!before) throw AppError::NotFound("No such user.");
    const bool was_active_admin = before->role == kRoleAdmin && before->active;
    const bool stays_active_admin =
        patch.role.value_or(before->role) == kRoleAdmin && patch.active.value_or(before->active);
    if (was_active_admin && !stays_active_admin && store::CountActiveAdmins(s) <= 1) throw LastAdmin();

    auto after = store::Update(s, id, patch, now);
    if (!after) throw AppError::NotFound("No such user.");
    nlohmann::json changes = nlohmann::json::object();
    if (after->email != before->email) changes["email"] = Change(before->email, after->email);
    if (after->name != before->name) changes["name"] = Change(before->name, after->name);
    if (after->role != before->role) changes["role"] = Change(before->role, after->role);
    if (after->active != before->active) changes["active"] = Change(before->active, after->active);
    bool revoke_tokens = after->role != before->role || after->active != before->active;
    if (request.site_ids) {
      auto sites = Sorted(*request.site_ids);
      if (sites != before->site_ids) {
        store::SetSites(s, id, sites);
        changes["site_ids"] = Change(before->site_ids, sites);
        revoke_tokens = true;
      }
    }
    if (new_hash) {
      store::SetPasswordHash(s, id, *new_hash, now);
      store::RevokeAllForUser(s, id, now);
      changes["password"] = "changed";
      revoke_tokens = true;
    }
    if (before->active && !after->active) store::RevokeAllForUser(s, id, now);
    if (revoke_tokens) store::BumpTokenVersion(s, id);
    access_changed = revoke_tokens;
    if (!changes.empty()) {
      audit::Record(s, audit::EntryFrom(origin, "user.update", "user", std::to_string(id), std::nullopt, changes));
    }
    auto user = store::GetById(s, id);
    if (!user) throw AppError::Internal("user vanished during update");
    return *user;
  });
  if (access_changed) Changed(id);
  return updated;
}

void UsersService::Delete(const web::Principal& caller, const audit::Origin& origin, std::int64_t id) {
  RequireAdmin(caller);
  db_.Write([&](soci::session& s) {
    auto before = store::GetById(s, id);
    if (!before) throw AppError::NotFound("No such user.");
    if (before->role == kRoleAdmin && before->active && store::CountActiveAdmins(s) <= 1) throw LastAdmin();
    store::Delete(s, id);
    audit::Record(s, audit::EntryFrom(origin, "user.delete", "user", std::to_string(id), std::nullopt,
                                      {{"email", before->email}, {"name", before->name}, {"role", before->role}}));
  });
  Changed(id);
  for (const auto& listener : on_deleted_) {
    try {
      listener(id);
    } catch (const std::exception& error) {
      spdlog::error("user {}: a deletion listener failed: {}", id, error.what());
    }
  }
}

FirstAdmin UsersService::EnsureFirstAdmin(std::optional<std::string> email, std::optional<std::string> password) {
  FirstAdmin result;
  const bool empty = db_.ReadValue([](soci::session& s) { return store::CountUsers(s) == 0; });
  if (!empty) return result;
  NewUser nu;
  nu.email = validate::NormalizeEmail(email && !email->empty() ? *email : std::string(kDefaultAdminEmail));
  nu.name = "Administrator";
  nu.role = std::string(kRoleAdmin);
  auto errors = Validate(nu);
  if (password && !password->empty()) {
    CheckPassword(errors, *password, nu.email);
  } else {
    password = crypto::RandomToken(18);  // 144 bits, 24 characters
    result.generated_password = password;
  }
  if (!errors.empty()) {
    std::string why;
    for (const auto& e : errors) why += (why.empty() ? "" : "; ") + e.field + ": " + e.message;
    throw AppError(ErrorCode::kValidation, "The first administrator cannot be created: " + why, {}, errors);
  }
  nu.password_hash = crypto::HashPassword(*password, params_);
  const auto now = NowMs();
  const bool created = db_.WriteValue([&](soci::session& s) {
    if (store::CountUsers(s) != 0) return false;  // another instance won the race
    result.user_id = store::Insert(s, nu, now);
    audit::Record(s, audit::EntryFrom({}, "user.create", "user", std::to_string(result.user_id), std::nullopt,
                                      {{"email", nu.email}, {"role", nu.role}, {"first_run", true}}));
    return true;
  });
  if (!created) return FirstAdmin{};
  result.created = true;
  result.email = nu.email;
  return result;
}

}  // namespace poste::users
