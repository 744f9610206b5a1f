#pragma once
// The users module's domain logic: who may list, create, change and delete accounts, password policy and
// hashing, the last-admin rule, token revocation on sensitive changes, and the audit trail of every change
// (written in the same transaction). No HTTP here: users_routes.cpp parses and serialises.
//
// Every member blocks (SQL, argon2id): call it through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/crypto/password.hpp"
#include "lib/web/principal.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/users/users_store.hpp"
#include "modules/users/users_types.hpp"

namespace poste::db {
class Database;
}

namespace poste::users {

struct CreateUser {
  std::string email;
  std::string name;
  std::string password;
  std::string role = std::string(kRoleEditor);
  bool active = true;
  std::vector<std::int64_t> site_ids;
};

// Absent = unchanged.
struct UpdateUser {
  std::optional<std::string> email;
  std::optional<std::string> name;
  std::optional<std::string> password;
  std::optional<std::string> current_password;  // required when a caller changes their own password
  std::optional<std::string> role;
  std::optional<bool> active;
  std::optional<std::vector<std::int64_t>> site_ids;
};

struct FirstAdmin {
  bool created = false;  // false: users already existed, nothing was done
  std::int64_t user_id = 0;
  std::string email;
  std::optional<std::string> generated_password;  // set when no password was given: print it once
};

inline constexpr std::string_view kDefaultAdminEmail = "admin@poste.local";

// Called after a change of a user's access (role, sites, active, token version, deletion) has committed, so
// that the authentication cache forgets the user (the app passes AuthGuard::Invalidate).
using UserChanged = std::function<void(std::int64_t user_id)>;

class UsersService {
 public:
  explicit UsersService(db::Database& db, crypto::PasswordParams params = {}, UserChanged on_change = {});

  // Admins only (403 otherwise).
  store::UserPage List(const web::Principal& caller, const store::ListOptions& options);
  // Admins, or the user themself (403 otherwise); 404 when there is no such user.
  User Get(const web::Principal& caller, std::int64_t id);
  // Admins only. 422 with field errors (email, name, role, site_ids, password), 409 on a taken email.
  User Create(const web::Principal& caller, const audit::Origin& origin, const CreateUser& request);
  // Admins change anything; a user may change their own email, name and password (403 for role, site_ids or
  // active). Changing one's own password needs current_password (422 on field "current_password").
  // Demoting or deactivating the last active admin: 409. The token version is bumped (every access token
  // dies) on a password, role, sites or active change; refresh tokens are revoked on a password change and
  // on deactivation.
  User Update(const web::Principal& caller, const audit::Origin& origin, std::int64_t id, const UpdateUser& request);
  // Admins only; deleting the last active admin: 409.
  void Delete(const web::Principal& caller, const audit::Origin& origin, std::int64_t id);
  // Adds a listener called with a user's id after their deletion has committed: the modules that keep files
  // of a user (the inbox's attachments) remove them. A listener's exception is logged; the deletion stands.
  // Add listeners while wiring only.
  void OnDeleted(std::function<void(std::int64_t user_id)> listener) { on_deleted_.push_back(std::move(listener)); }

  // First run: when there is no user at all, creates an active admin with `email` (default
  // kDefaultAdminEmail) and `password` (checked against the policy; when absent, a random one is generated
  // and returned). Throws AppError (422) when the given email or password is refused.
  FirstAdmin EnsureFirstAdmin(std::optional<std::string> email, std::optional<std::string> password);

 private:
  void Changed(std::int64_t user_id) const {
    if (on_change_) on_change_(user_id);
  }

  db::Database& db_;
  crypto::PasswordParams params_;
  UserChanged on_change_;
  std::vector<std::function<void(std::int64_t)>> on_deleted_;
};

}  // namespace poste::users
