#pragma once
// `poste user add | passwd | list | disable | enable`: account management from the server's console, through
// the users service (the same validation, last-admin rule, token revocation and audit as the API). The CLI
// acts as an administrator with no user id: audit rows have no actor and request_id "cli".
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace poste::db {
class Database;
}

namespace poste::app {

struct UserAddArgs {
  std::string email;
  std::string name;
  std::string role = "editor";
  std::vector<std::int64_t> site_ids;
  bool password_stdin = false;  // else a strong password is generated and printed once
};

// Each returns the exit code and reports to `out`; errors are thrown (AppError with field errors, or
// AppError::NotFound for an unknown email) for the caller to print.
int UserAdd(db::Database& db, const UserAddArgs& args, std::istream& in, std::ostream& out);
// Sets a new password (read from `in`, or generated and printed once) and revokes the user's sessions.
int UserPasswd(db::Database& db, const std::string& email, bool password_stdin, std::istream& in, std::ostream& out);
// A table: id, email, role, active, sites, last login.
int UserList(db::Database& db, std::ostream& out);
int UserSetActive(db::Database& db, const std::string& email, bool active, std::ostream& out);

// The first line of `in` without its line ending; throws when there is none.
std::string ReadSecretLine(std::istream& in, const std::string& what);

}  // namespace poste::app
