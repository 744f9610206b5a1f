#include "app/user_commands.hpp"

#include <ctime>
#include <istream>
#include <optional>
#include <ostream>
#include <sstream>

#include "db/database.hpp"
#include "lib/crypto/random.hpp"
#include "lib/error.hpp"
#include "lib/web/principal.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/users/users_service.hpp"
#include "modules/users/users_store.hpp"

namespace poste::app {

namespace {

web::Principal CliAdmin() {
  web::Principal p;
  p.user_id = 0;  // no user: never "self"
  p.admin = true;
  return p;
}

audit::Origin CliOrigin() {
  audit::Origin origin;  // no actor
  origin.request_id = "cli";
  return origin;
}

std::int64_t IdByEmail(db::Database& db, const std::string& email) {
  auto user = db.ReadValue([&](soci::session& s) { return users::store::GetAuthByEmailKey(s, email); });
  if (!user) throw AppError::NotFound("There is no user with the email " + email + ".");
  return user->id;
}

std::string GeneratePassword() { return crypto::RandomToken(18); }  // 144 bits, 24 characters

std::string FormatTime(std::optional<std::int64_t> ms) {
  if (!ms) return "never";
  std::time_t t = static_cast<std::time_t>(*ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string Pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::string ReadSecretLine(std::istream& in, const std::string& what) {
  std::string line;
  if (!std::getline(in, line)) throw AppError::BadRequest("No " + what + " on standard input.");
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

int UserAdd(db::Database& db, const UserAddArgs& args, std::istream& in, std::ostream& out) {
  users::CreateUser request;
  request.email = args.email;
  request.name = args.name;
  request.role = args.role;
  request.site_ids = args.site_ids;
  const bool generated = !args.password_stdin;
  request.password = generated ? GeneratePassword() : ReadSecretLine(in, "password");
  users::UsersService service(db);
  auto user = service.Create(CliAdmin(), CliOrigin(), request);
  out << "Created user " << user.id << " <" << user.email << "> (" << user.role << ").\n";
  if (generated) out << "\nPassword (shown once):\n\n    " << request.password << "\n\n";
  return 0;
}

int UserPasswd(db::Database& db, const std::string& email, bool password_stdin, std::istream& in, std::ostream& out) {
  const auto id = IdByEmail(db, email);
  users::UpdateUser request;
  request.password = password_stdin ? ReadSecretLine(in, "password") : GeneratePassword();
  users::UsersService service(db);
  auto user = service.Update(CliAdmin(), CliOrigin(), id, request);
  out << "Changed the password of user " << user.id << " <" << user.email
      << ">; their sessions and access tokens are revoked.\n";
  if (!password_stdin) out << "\nNew password (shown once):\n\n    " << *request.password << "\n\n";
  return 0;
}

int UserList(db::Database& db, std::ostream& out) {
  users::UsersService service(db);
  std::vector<users::User> all;
  users::store::ListOptions options;
  options.limit = users::store::kMaxListLimit;
  for (;;) {
    auto page = service.List(CliAdmin(), options);
    all.insert(all.end(), page.items.begin(), page.items.end());
    if (!page.next_cursor) break;
    options.cursor = page.next_cursor;
  }
  std::size_t email_width = 5;
  for (const auto& u : all) email_width = std::max(email_width, u.email.size());
  out << Pad("ID", 6) << Pad("EMAIL", email_width + 2) << Pad("ROLE", 8) << Pad("ACTIVE", 8) << Pad("SITES", 14)
      << "LAST LOGIN\n";
  for (auto it = all.rbegin(); it != all.rend(); ++it) {  // oldest first
    const auto& u = *it;
    std::string sites;
    if (u.role == users::kRoleAdmin) {
      sites = "all";
    } else if (u.site_ids.empty()) {
      sites = "-";
    } else {
      for (auto id : u.site_ids) sites += (sites.empty() ? "" : ",") + std::to_string(id);
    }
    out << Pad(std::to_string(u.id), 6) << Pad(u.email, email_width + 2) << Pad(u.role, 8)
        << Pad(u.active ? "yes" : "no", 8) << Pad(sites, 14) << FormatTime(u.last_login_at) << "\n";
  }
  if (all.empty()) out << "(no users)\n";
  return 0;
}

int UserSetActive(db::Database& db, const std::string& email, bool active, std::ostream& out) {
  const auto id = IdByEmail(db, email);
  users::UpdateUser request;
  request.active = active;
  users::UsersService service(db);
  auto user = service.Update(CliAdmin(), CliOrigin(), id, request);
  out << (active ? "Enabled" : "Disabled") << " user " << user.id << " <" << user.email << ">"
      << (active ? "" : "; their sessions and access tokens are revoked") << ".\n";
  return 0;
}

}  // namespace poste::app
