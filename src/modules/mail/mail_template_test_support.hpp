#pragma once
// Shared by the tests of templates, signatures, suppressions and unsubscribe: a fresh database of each
// dialect with two sites and two users, a fixed clock, and the audit rows written.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdint>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/users/users_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::mail::testing {

class MailDbTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    site_a_ = AddSite("alpha");
    site_b_ = AddSite("beta");
    user_a_ = AddUser("ada@example.com");
    user_b_ = AddUser("bob@example.com");
    origin_.user_id = user_a_;
    origin_.ip = "192.0.2.7";
    origin_.request_id = "req-1";
  }

  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite s;
    s.slug = slug;
    s.name = "Site " + slug;
    return db().WriteValue([&](soci::session& session) { return sites::store::Insert(session, s, 1); });
  }

  std::int64_t AddUser(const std::string& email) {
    users::NewUser u;
    u.email = email;
    u.name = email;
    u.password_hash = "x";
    u.role = "editor";
    return db().WriteValue([&](soci::session& s) { return users::store::Insert(s, u, 1); });
  }

  // The actions of the audit rows, oldest first.
  std::vector<std::string> AuditActions() {
    return db().ReadValue([&](soci::session& s) {
      std::vector<std::string> out;
      soci::rowset<std::string> rows = (s.prepare << "SELECT action FROM audit_log ORDER BY id");
      for (const auto& action : rows) out.push_back(action);
      return out;
    });
  }

  std::int64_t now_ = 1'700'000'000'000;
  std::int64_t site_a_ = 0, site_b_ = 0, user_a_ = 0, user_b_ = 0;
  audit::Origin origin_;
};

// The "field:code" pairs of an AppError thrown by `fn` (empty when it throws nothing or something else).
template <class F>
std::vector<std::string> FieldCodes(F&& fn, int* status = nullptr) {
  try {
    fn();
  } catch (const AppError& e) {
    if (status) *status = e.status();
    std::vector<std::string> out;
    for (const auto& f : e.fields()) out.push_back(f.field + ":" + f.code);
    return out;
  }
  return {};
}

// The status of the AppError thrown by `fn`; 0 when none.
template <class F>
int ErrorStatus(F&& fn) {
  try {
    fn();
  } catch (const AppError& e) {
    return e.status();
  }
  return 0;
}

}  // namespace poste::mail::testing
