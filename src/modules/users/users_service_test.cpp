#include "modules/users/users_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "modules/audit/audit_service.hpp"
#include "support/db_fixture.hpp"

namespace poste::users {
namespace {

constexpr const char* kGood = "correct horse battery staple";

crypto::PasswordParams Cheap() {
  crypto::PasswordParams p;
  p.ops_limit = 1;
  p.mem_limit = crypto::kMinMemLimit;
  return p;
}

web::Principal Admin(std::int64_t id) {
  web::Principal p;
  p.user_id = id;
  p.admin = true;
  return p;
}
web::Principal Editor(std::int64_t id) {
  web::Principal p;
  p.user_id = id;
  return p;
}

CreateUser Req(std::string email, std::string role = "editor", std::string password = kGood) {
  CreateUser r;
  r.email = std::move(email);
  r.name = "Name";
  r.password = std::move(password);
  r.role = std::move(role);
  return r;
}

// The status of the AppError that fn throws, and its first field (0 and "" when it does not throw).
template <class F>
std::pair<int, std::string> Failure(F fn) {
  try {
    fn();
  } catch (const AppError& e) {
    return {e.status(), e.fields().empty() ? "" : e.fields()[0].field};
  }
  return {0, ""};
}

class UsersServiceTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    service_ = std::make_unique<UsersService>(db(), Cheap(), [this](std::int64_t id) { changed_.push_back(id); });
    auto first = service_->EnsureFirstAdmin("root@example.com", "a long enough admin passphrase");
    ASSERT_TRUE(first.created);
    admin_ = first.user_id;
  }
  UsersService& svc() { return *service_; }
  audit::AuditPage Audit() { return audit::AuditService(db()).List({}); }
  UserAuth Auth(std::int64_t id) {
    return *db().ReadValue([&](soci::session& s) { return store::GetAuthById(s, id); });
  }

  std::unique_ptr<UsersService> service_;
  std::vector<std::int64_t> changed_;  // what the auth cache was told to forget
  std::int64_t admin_ = 0;
  audit::Origin origin_{1, std::nullopt, "192.0.2.1", "req-1"};
};

TEST_P(UsersServiceTest, FirstAdminOnlyOnceAndGeneratedPassword) {
  EXPECT_FALSE(svc().EnsureFirstAdmin(std::nullopt, std::nullopt).created);
  // On an empty database a random password is generated, and it works.
  db().Write([](soci::session& s) { s << "DELETE FROM users"; });
  auto first = svc().EnsureFirstAdmin(std::nullopt, std::nullopt);
  ASSERT_TRUE(first.created);
  ASSERT_TRUE(first.generated_password);
  EXPECT_GE(first.generated_password->size(), 20u);
  EXPECT_EQ(first.email, kDefaultAdminEmail);
  auto auth = Auth(first.user_id);
  EXPECT_EQ(auth.role, "admin");
  EXPECT_TRUE(crypto::VerifyPassword(auth.password_hash, *first.generated_password));
}

TEST_P(UsersServiceTest, FirstAdminRefusesAWeakPassword) {
  db().Write([](soci::session& s) { s << "DELETE FROM users"; });
  EXPECT_EQ(Failure([&] { svc().EnsureFirstAdmin("a@example.com", "password"); }).first, 422);
  EXPECT_EQ(Failure([&] { svc().EnsureFirstAdmin("not an email", kGood); }).first, 422);
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return store::CountUsers(s); }), 0);
}

TEST_P(UsersServiceTest, CreateValidatesNormalisesAndAudits) {
  auto u = svc().Create(Admin(admin_), origin_, Req("  Bob@EXAMPLE.com "));
  EXPECT_EQ(u.email, "Bob@example.com");
  EXPECT_EQ(u.role, "editor");
  EXPECT_TRUE(crypto::VerifyPassword(Auth(u.id).password_hash, kGood));
  EXPECT_EQ(Failure([&] { svc().Create(Admin(admin_), origin_, Req("bob@example.COM")); }),
            (std::pair<int, std::string>{409, "email"}));
  EXPECT_EQ(Failure([&] { svc().Create(Admin(admin_), origin_, Req("x@example.com", "editor", "short")); }),
            (std::pair<int, std::string>{422, "password"}));
  EXPECT_EQ(Failure([&] { svc().Create(Admin(admin_), origin_, Req("x@example.com", "editor", "password123")); }),
            (std::pair<int, std::string>{422, "password"}));
  EXPECT_EQ(Failure([&] { svc().Create(Admin(admin_), origin_, Req("x@@example.com")); }),
            (std::pair<int, std::string>{422, "email"}));
  EXPECT_EQ(Failure([&] { svc().Create(Admin(admin_), origin_, Req("x@example.com", "owner")); }),
            (std::pair<int, std::string>{422, "role"}));
  EXPECT_EQ(Failure([&] { svc().Create(Editor(u.id), origin_, Req("y@example.com")); }).first, 403);

  auto log = Audit();
  ASSERT_FALSE(log.items.empty());
  const auto& e = log.items[0];
  EXPECT_EQ(e.action, "user.create");
  EXPECT_EQ(e.object_id, std::to_string(u.id));
  EXPECT_EQ(e.actor_user_id, 1);
  EXPECT_EQ(e.ip, "192.0.2.1");
  EXPECT_EQ(e.changes["password"], "[redacted]");
  EXPECT_EQ(e.changes["email"], "Bob@example.com");
  EXPECT_EQ(log.items.back().changes["first_run"], true);
}

TEST_P(UsersServiceTest, SelfMayChangeProfileAndPasswordButNotRole) {
  auto u = svc().Create(Admin(admin_), origin_, Req("ed@example.com"));
  const int version = Auth(u.id).token_version;
  UpdateUser name;
  name.name = "New name";
  EXPECT_EQ(svc().Update(Editor(u.id), origin_, u.id, name).name, "New name");
  EXPECT_EQ(Auth(u.id).token_version, version);
  EXPECT_TRUE(changed_.empty());

  UpdateUser role;
  role.role = "admin";
  EXPECT_EQ(Failure([&] { svc().Update(Editor(u.id), origin_, u.id, role); }).first, 403);
  UpdateUser sites;
  sites.site_ids = std::vector<std::int64_t>{};
  EXPECT_EQ(Failure([&] { svc().Update(Editor(u.id), origin_, u.id, sites); }).first, 403);
  UpdateUser active;
  active.active = false;
  EXPECT_EQ(Failure([&] { svc().Update(Editor(u.id), origin_, u.id, active); }).first, 403);
  EXPECT_EQ(Failure([&] { svc().Update(Editor(u.id), origin_, admin_, name); }).first, 403);
  EXPECT_EQ(Failure([&] { svc().Get(Editor(u.id), admin_); }).first, 403);
  EXPECT_EQ(svc().Get(Editor(u.id), u.id).email, "ed@example.com");

  UpdateUser pw;
  pw.password = "another good passphrase";
  EXPECT_EQ(Failure([&] { svc().Update(Editor(u.id), origin_, u.id, pw); }),
            (std::pair<int, std::string>{422, "current_password"}));
  pw.current_password = "wrong";
  EXPECT_EQ(Failure([&] { svc().Update(Editor(u.id), origin_, u.id, pw); }),
            (std::pair<int, std::string>{422, "current_password"}));
  pw.current_password = kGood;
  svc().Update(Editor(u.id), origin_, u.id, pw);
  EXPECT_TRUE(crypto::VerifyPassword(Auth(u.id).password_hash, "another good passphrase"));
  EXPECT_GT(Auth(u.id).token_version, version);
  auto e = Audit().items[0];
  EXPECT_EQ(e.action, "user.update");
  EXPECT_EQ(e.changes["password"], "[redacted]");
  EXPECT_EQ(e.changes.dump().find("another good"), std::string::npos);

  // An admin resets another user's password without the current one.
  UpdateUser reset;
  reset.password = "third good passphrase";
  svc().Update(Admin(admin_), origin_, u.id, reset);
  EXPECT_TRUE(crypto::VerifyPassword(Auth(u.id).password_hash, "third good passphrase"));
}

TEST_P(UsersServiceTest, RoleAndActiveChangesBumpTheTokenVersionAndAreAudited) {
  auto u = svc().Create(Admin(admin_), origin_, Req("ed@example.com"));
  int version = Auth(u.id).token_version;
  UpdateUser up;
  up.role = "admin";
  EXPECT_EQ(svc().Update(Admin(admin_), origin_, u.id, up).role, "admin");
  EXPECT_GT(Auth(u.id).token_version, version);
  EXPECT_EQ(changed_, std::vector<std::int64_t>{u.id});
  version = Auth(u.id).token_version;
  auto e = Audit().items[0];
  EXPECT_EQ(e.changes["role"]["from"], "editor");
  EXPECT_EQ(e.changes["role"]["to"], "admin");
  UpdateUser off;
  off.active = false;
  EXPECT_FALSE(svc().Update(Admin(admin_), origin_, u.id, off).active);
  EXPECT_GT(Auth(u.id).token_version, version);
  // Nothing changed: no audit row, no bump.
  auto before = Audit().items.size();
  version = Auth(u.id).token_version;
  svc().Update(Admin(admin_), origin_, u.id, off);
  EXPECT_EQ(Audit().items.size(), before);
  EXPECT_EQ(Auth(u.id).token_version, version);
}

TEST_P(UsersServiceTest, TheLastActiveAdminStays) {
  UpdateUser demote;
  demote.role = "editor";
  EXPECT_EQ(Failure([&] { svc().Update(Admin(admin_), origin_, admin_, demote); }).first, 409);
  UpdateUser off;
  off.active = false;
  EXPECT_EQ(Failure([&] { svc().Update(Admin(admin_), origin_, admin_, off); }).first, 409);
  EXPECT_EQ(Failure([&] { svc().Delete(Admin(admin_), origin_, admin_); }).first, 409);
  auto second = svc().Create(Admin(admin_), origin_, Req("second@example.com", "admin"));
  svc().Delete(Admin(admin_), origin_, admin_);
  EXPECT_EQ(Failure([&] { svc().Get(Admin(second.id), admin_); }).first, 404);
  EXPECT_EQ(Audit().items[0].action, "user.delete");
  EXPECT_EQ(Failure([&] { svc().Delete(Admin(second.id), origin_, 999); }).first, 404);
}

TEST_P(UsersServiceTest, DeletionListenersRunAfterTheCommitAndCannotUndoIt) {
  std::vector<std::int64_t> told;
  std::vector<bool> gone_when_told;
  svc().OnDeleted([&](std::int64_t id) {
    told.push_back(id);
    // Read on another connection: the deletion has committed.
    gone_when_told.push_back(!db().ReadValue([&](soci::session& s) { return store::GetById(s, id); }));
  });
  svc().OnDeleted([](std::int64_t) { throw std::runtime_error("a listener that fails"); });
  auto doomed = svc().Create(Admin(admin_), origin_, Req("doomed@example.com"));
  // Refused deletions tell nobody.
  EXPECT_EQ(Failure([&] { svc().Delete(Admin(admin_), origin_, admin_); }).first, 409);
  EXPECT_EQ(Failure([&] { svc().Delete(Admin(admin_), origin_, 999); }).first, 404);
  EXPECT_EQ(Failure([&] { svc().Delete(Editor(doomed.id), origin_, doomed.id); }).first, 403);
  EXPECT_TRUE(told.empty());
  svc().Delete(Admin(admin_), origin_, doomed.id);  // the failing listener is logged, not thrown
  EXPECT_EQ(told, std::vector<std::int64_t>{doomed.id});
  EXPECT_EQ(gone_when_told, std::vector<bool>{true});
  EXPECT_EQ(Failure([&] { svc().Get(Admin(admin_), doomed.id); }).first, 404);
}

TEST_P(UsersServiceTest, NastyTextIsStoredAsGiven) {
  const std::string nasty = "a'; DROP TABLE users; --\"<script>alert(1)</script>&amp; é";
  auto r = Req("nasty@example.com");
  r.name = nasty;
  auto u = svc().Create(Admin(admin_), origin_, r);
  EXPECT_EQ(svc().Get(Admin(admin_), u.id).name, nasty);
  r.name = "line\r\nbreak";
  r.email = "other@example.com";
  EXPECT_EQ(Failure([&] { svc().Create(Admin(admin_), origin_, r); }), (std::pair<int, std::string>{422, "name"}));
  r.name = std::string(201, 'x');
  EXPECT_EQ(Failure([&] { svc().Create(Admin(admin_), origin_, r); }), (std::pair<int, std::string>{422, "name"}));
}

POSTE_INSTANTIATE_DB_TEST(UsersServiceTest);

}  // namespace
}  // namespace poste::users
