#include "modules/users/users_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>
#include <chrono>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "lib/error.hpp"
#include "support/db_fixture.hpp"

namespace poste::users {
namespace {

constexpr std::int64_t kNow = 1'700'000'000'000;

// What must come back byte for byte: line breaks, quotes, SQL and HTML.
const std::string& Nasty() {
  static const std::string text = "a\r\nb'; DROP TABLE users; --\"<script>alert(1)</script>&amp;\t\\ é";
  return text;
}

NewUser Editor(const std::string& email, std::vector<std::int64_t> sites = {}) {
  NewUser u;
  u.email = email;
  u.name = "Editor " + email;
  u.password_hash = "$argon2id$v=19$m=65536,t=2,p=1$salt$hash";
  u.role = "editor";
  u.site_ids = std::move(sites);
  return u;
}

// Option structs built field by field (GCC warns about designated initializers that leave members out).
UserPatch Patch(std::optional<std::string> email, std::optional<std::string> name = std::nullopt,
                std::optional<std::string> role = std::nullopt, std::optional<bool> active = std::nullopt) {
  UserPatch p;
  p.email = std::move(email), p.name = std::move(name), p.role = std::move(role), p.active = active;
  return p;
}

store::ListOptions Options(int limit, std::optional<std::int64_t> cursor = std::nullopt,
                           std::optional<std::int64_t> site_id = std::nullopt,
                           std::optional<std::string> role = std::nullopt, std::optional<bool> active = std::nullopt) {
  store::ListOptions o;
  o.limit = limit, o.cursor = cursor, o.site_id = site_id, o.role = std::move(role), o.active = active;
  return o;
}

class UsersStoreTest : public poste::testing::DbTest {
 protected:
  std::int64_t AddSite(const std::string& slug) {
    return db().WriteValue([&](soci::session& s) {
      long long id = 0;
      const long long now = kNow;
      s << "INSERT INTO sites (slug, name, created_at, updated_at) VALUES (:slug, :name, :c, :u) RETURNING id",
          soci::use(slug), soci::use(slug), soci::use(now), soci::use(now), soci::into(id);
      return static_cast<std::int64_t>(id);
    });
  }
  std::int64_t Add(const NewUser& user, std::int64_t now = kNow) {
    return db().WriteValue([&](soci::session& s) { return store::Insert(s, user, now); });
  }
  std::optional<User> Get(std::int64_t id) {
    return db().ReadValue([&](soci::session& s) { return store::GetById(s, id); });
  }
  // The AppError a write throws (fails the test when it does not throw one).
  AppError WriteError(const std::function<void(soci::session&)>& fn) {
    try {
      db().Write(fn);
    } catch (const AppError& error) {
      return error;
    }
    ADD_FAILURE() << "expected an AppError";
    return AppError::Internal("none");
  }
};

TEST_P(UsersStoreTest, InsertThenGetReturnsTheUserWithoutSecrets) {
  const auto site = AddSite("alpha");
  NewUser nu = Editor("  Jane.Doe@Example.com ", {site});
  nu.name = "Jane Doe";
  const auto id = Add(nu);
  const auto user = Get(id);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->id, id);
  EXPECT_EQ(user->email, "Jane.Doe@Example.com");  // trimmed, case kept
  EXPECT_EQ(user->name, "Jane Doe");
  EXPECT_EQ(user->role, "editor");
  EXPECT_TRUE(user->active);
  EXPECT_FALSE(user->totp_enabled);
  EXPECT_EQ(user->token_version, 0);
  EXPECT_EQ(user->site_ids, std::vector<std::int64_t>{site});
  EXPECT_EQ(user->created_at, kNow);
  EXPECT_EQ(user->updated_at, kNow);
  EXPECT_FALSE(user->last_login_at.has_value());
  EXPECT_FALSE(Get(id + 100).has_value());

  const auto json = ToJson(*user);
  EXPECT_EQ(json["email"], "Jane.Doe@Example.com");
  EXPECT_EQ(json["site_ids"], nlohmann::json::array({site}));
  EXPECT_TRUE(json["last_login_at"].is_null());
  EXPECT_FALSE(json.contains("password_hash"));
  EXPECT_FALSE(json.contains("totp_secret"));
  EXPECT_FALSE(json.contains("token_version"));
}

TEST_P(UsersStoreTest, AuthLookupIsCaseInsensitiveAndCarriesTheHash) {
  const auto id = Add(Editor("Foo@X.com"));
  for (const char* typed : {"Foo@X.com", "foo@x.com", "  FOO@X.COM  "}) {
    const auto auth = db().ReadValue([&](soci::session& s) { return store::GetAuthByEmailKey(s, typed); });
    ASSERT_TRUE(auth.has_value()) << typed;
    EXPECT_EQ(auth->id, id);
    EXPECT_EQ(auth->password_hash, "$argon2id$v=19$m=65536,t=2,p=1$salt$hash");
    EXPECT_EQ(auth->password_changed_at, kNow);
    EXPECT_FALSE(auth->totp_secret.has_value());
    EXPECT_FALSE(auth->totp_last_step.has_value());
  }
  EXPECT_FALSE(db().ReadValue([](soci::session& s) { return store::GetAuthByEmailKey(s, "other@x.com"); }));
}

TEST_P(UsersStoreTest, AnEmailDifferingOnlyByCaseIsAConflictOnEmail) {
  const auto first = Add(Editor("Foo@X.com"));
  auto error = WriteError([](soci::session& s) { store::Insert(s, Editor("foo@x.com"), kNow); });
  EXPECT_EQ(error.status(), 409);
  ASSERT_EQ(error.fields().size(), 1u);
  EXPECT_EQ(error.fields()[0].field, "email");
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return store::CountUsers(s); }), 1);

  // The same on update, and the failed update changed nothing.
  const auto second = Add(Editor("bar@x.com"));
  error = WriteError([&](soci::session& s) { store::Update(s, second, Patch("FOO@x.COM"), kNow + 1); });
  EXPECT_EQ(error.status(), 409);
  ASSERT_EQ(error.fields().size(), 1u);
  EXPECT_EQ(error.fields()[0].field, "email");
  EXPECT_EQ(Get(second)->email, "bar@x.com");
  EXPECT_EQ(Get(first)->email, "Foo@X.com");
  // Changing one's own address to another case of itself is not a conflict.
  const auto same =
      db().WriteValue([&](soci::session& s) { return store::Update(s, first, Patch("FOO@X.COM"), kNow + 2); });
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->email, "FOO@X.COM");
}

TEST_P(UsersStoreTest, UpdateAppliesOnlyThePatchedFields) {
  const auto id = Add(Editor("e@x.com"));
  const auto updated = db().WriteValue([&](soci::session& s) {
    return store::Update(s, id, Patch(std::nullopt, "New name", "admin", false), kNow + 5);
  });
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ(updated->name, "New name");
  EXPECT_EQ(updated->role, "admin");
  EXPECT_FALSE(updated->active);
  EXPECT_EQ(updated->email, "e@x.com");
  EXPECT_EQ(updated->updated_at, kNow + 5);
  EXPECT_EQ(updated->created_at, kNow);
  EXPECT_FALSE(
      db().WriteValue([&](soci::session& s) { return store::Update(s, id + 9, Patch(std::nullopt, "x"), kNow); }));
  // An empty patch changes nothing, not even updated_at.
  EXPECT_EQ(db().WriteValue([&](soci::session& s) { return store::Update(s, id, UserPatch{}, kNow + 9); })->updated_at,
            kNow + 5);
}

TEST_P(UsersStoreTest, TheDatabaseRefusesAnUnknownRole) {
  NewUser nu = Editor("r@x.com");
  nu.role = "owner";
  EXPECT_ANY_THROW(Add(nu));
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return store::CountUsers(s); }), 0);
}

TEST_P(UsersStoreTest, SetSitesReplacesTheSetAndRefusesUnknownSites) {
  const auto a = AddSite("a"), b = AddSite("b"), c = AddSite("c");
  const auto id = Add(Editor("e@x.com", {a}));
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::SetSites(s, id, {c, b, c}); }));
  EXPECT_EQ(Get(id)->site_ids, (std::vector<std::int64_t>{b, c}));

  const auto error = WriteError([&](soci::session& s) { store::SetSites(s, id, {a, 999, 998}); });
  EXPECT_EQ(error.status(), 422);
  ASSERT_EQ(error.fields().size(), 1u);
  EXPECT_EQ(error.fields()[0].field, "site_ids");
  EXPECT_NE(error.fields()[0].message.find("998, 999"), std::string::npos) << error.fields()[0].message;
  EXPECT_EQ(Get(id)->site_ids, (std::vector<std::int64_t>{b, c}));  // unchanged

  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::SetSites(s, id + 50, {a}); }));
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::SetSites(s, id, {}); }));
  EXPECT_TRUE(db().ReadValue([&](soci::session& s) { return store::SitesOf(s, id); }).empty());

  // A new user with an unknown site is not created at all.
  const auto insert_error = WriteError([&](soci::session& s) { store::Insert(s, Editor("n@x.com", {a, 777}), kNow); });
  EXPECT_EQ(insert_error.status(), 422);
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return store::CountUsers(s); }), 1);
}

TEST_P(UsersStoreTest, ListPagesNewestFirstWithACursor) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(Add(Editor("u" + std::to_string(i) + "@x.com")));
  std::vector<std::int64_t> seen;
  std::optional<std::int64_t> cursor;
  int pages = 0;
  do {
    const auto page = db().ReadValue([&](soci::session& s) { return store::List(s, Options(3, cursor)); });
    EXPECT_LE(page.items.size(), 3u);
    for (const auto& u : page.items) seen.push_back(u.id);
    cursor = page.next_cursor;
    ++pages;
  } while (cursor && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, std::vector<std::int64_t>(ids.rbegin(), ids.rend()));

  // An exact multiple of the limit ends without an empty extra page.
  const auto all = db().ReadValue([](soci::session& s) { return store::List(s, Options(7)); });
  EXPECT_EQ(all.items.size(), 7u);
  EXPECT_FALSE(all.next_cursor.has_value());
  // Limits are clamped, never unbounded or zero.
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return store::List(s, Options(0)); }).items.size(), 1u);
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return store::List(s, Options(100000)); }).items.size(), 7u);
}

TEST_P(UsersStoreTest, ListFiltersBySiteRoleAndActive) {
  const auto a = AddSite("a"), b = AddSite("b");
  const auto on_a = Add(Editor("a@x.com", {a}));
  const auto on_both = Add(Editor("ab@x.com", {a, b}));
  NewUser admin = Editor("admin@x.com");
  admin.role = "admin";
  const auto admin_id = Add(admin);
  NewUser off = Editor("off@x.com", {b});
  off.active = false;
  const auto off_id = Add(off);

  const auto ids = [&](const store::ListOptions& options) {
    std::vector<std::int64_t> out;
    for (const auto& u : db().ReadValue([&](soci::session& s) { return store::List(s, options); }).items) {
      out.push_back(u.id);
    }
    return out;
  };
  EXPECT_EQ(ids(Options(50, std::nullopt, a)), (std::vector<std::int64_t>{on_both, on_a}));
  EXPECT_EQ(ids(Options(50, std::nullopt, b)), (std::vector<std::int64_t>{off_id, on_both}));
  EXPECT_EQ(ids(Options(50, std::nullopt, std::nullopt, "admin")), std::vector<std::int64_t>{admin_id});
  EXPECT_EQ(ids(Options(50, std::nullopt, std::nullopt, std::nullopt, false)), std::vector<std::int64_t>{off_id});
  EXPECT_EQ(ids(Options(50, std::nullopt, b, std::nullopt, true)), std::vector<std::int64_t>{on_both});
  EXPECT_TRUE(ids(Options(50, std::nullopt, 12345)).empty());
  // The page carries each user's sites.
  const auto page = db().ReadValue([&](soci::session& s) { return store::List(s, Options(50, std::nullopt, a)); });
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].site_ids, (std::vector<std::int64_t>{a, b}));
  EXPECT_EQ(page.items[1].site_ids, std::vector<std::int64_t>{a});
}

TEST_P(UsersStoreTest, DeletingASiteRemovesItsAssignmentsButKeepsTheUsers) {
  const auto a = AddSite("a"), b = AddSite("b");
  const auto id = Add(Editor("e@x.com", {a, b}));
  db().Write([&](soci::session& s) {
    const long long site = a;
    s << "DELETE FROM sites WHERE id = :id", soci::use(site);
  });
  const auto user = Get(id);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->site_ids, std::vector<std::int64_t>{b});
}

TEST_P(UsersStoreTest, DeleteRemovesTheUserAndEverythingItHolds) {
  const auto a = AddSite("a");
  const auto id = Add(Editor("e@x.com", {a}));
  const auto other = Add(Editor("o@x.com", {a}));
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::Delete(s, id); }));
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::Delete(s, id); }));
  EXPECT_FALSE(Get(id).has_value());
  EXPECT_TRUE(Get(other).has_value());
  const auto assignments = db().ReadValue([&](soci::session& s) {
    long long n = 0;
    s << "SELECT COUNT(*) FROM user_sites", soci::into(n);
    return n;
  });
  EXPECT_EQ(assignments, 1);
}

TEST_P(UsersStoreTest, PasswordLoginAndTokenVersion) {
  const auto id = Add(Editor("e@x.com"));
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::SetPasswordHash(s, id, "new-hash", kNow + 10); }));
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::TouchLastLogin(s, id, kNow + 20); }));
  EXPECT_EQ(db().WriteValue([&](soci::session& s) { return store::BumpTokenVersion(s, id); }), 1);
  EXPECT_EQ(db().WriteValue([&](soci::session& s) { return store::BumpTokenVersion(s, id); }), 2);
  const auto auth = db().ReadValue([&](soci::session& s) { return store::GetAuthById(s, id); });
  ASSERT_TRUE(auth.has_value());
  EXPECT_EQ(auth->password_hash, "new-hash");
  EXPECT_EQ(auth->password_changed_at, kNow + 10);
  EXPECT_EQ(auth->token_version, 2);
  EXPECT_EQ(Get(id)->last_login_at, kNow + 20);
  EXPECT_EQ(Get(id)->token_version, 2);

  const std::int64_t missing = id + 40;
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::SetPasswordHash(s, missing, "h", kNow); }));
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::TouchLastLogin(s, missing, kNow); }));
  EXPECT_FALSE(db().WriteValue([&](soci::session& s) { return store::BumpTokenVersion(s, missing); }));
}

TEST_P(UsersStoreTest, TotpStepsAreAcceptedOnceAndInOrder) {
  const auto id = Add(Editor("e@x.com"));
  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::SetTotp(s, id, "sealed:1:abc", true, kNow); }));
  auto auth = db().ReadValue([&](soci::session& s) { return store::GetAuthById(s, id); });
  EXPECT_TRUE(auth->totp_enabled);
  EXPECT_EQ(auth->totp_secret, "sealed:1:abc");
  EXPECT_TRUE(Get(id)->totp_enabled);

  const auto accept = [&](std::int64_t step) {
    return db().WriteValue([&](soci::session& s) { return store::AcceptTotpStep(s, id, step); });
  };
  EXPECT_TRUE(accept(1000));
  EXPECT_FALSE(accept(1000));  // the same code again
  EXPECT_FALSE(accept(999));   // an older one
  EXPECT_TRUE(accept(1001));

  EXPECT_TRUE(db().WriteValue([&](soci::session& s) { return store::SetTotp(s, id, std::nullopt, false, kNow); }));
  auth = db().ReadValue([&](soci::session& s) { return store::GetAuthById(s, id); });
  EXPECT_FALSE(auth->totp_enabled);
  EXPECT_FALSE(auth->totp_secret.has_value());
  EXPECT_FALSE(auth->totp_last_step.has_value());
}

TEST_P(UsersStoreTest, CountsUsersAndActiveAdmins) {
  NewUser admin = Editor("a@x.com");
  admin.role = "admin";
  Add(admin);
  admin.email = "b@x.com";
  admin.active = false;
  Add(admin);
  Add(Editor("c@x.com"));
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return store::CountUsers(s); }), 3);
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return store::CountActiveAdmins(s); }), 1);
}

// Two transactions, each demoting a different one of two admins after counting them: the second must count
// without the first one's admin, or both would pass the "not the last admin" check and leave none.
TEST_P(UsersStoreTest, CountingActiveAdminsSerialisesConcurrentDemotions) {
  NewUser admin = Editor("a1@x.com");
  admin.role = "admin";
  const auto first = Add(admin);
  admin.email = "a2@x.com";
  Add(admin);
  std::promise<void> demoted;
  std::int64_t first_count = 0, second_count = 0;
  std::thread a([&] {
    db().Write([&](soci::session& s) {
      first_count = store::CountActiveAdmins(s);
      UserPatch patch;
      patch.role = "editor";
      store::Update(s, first, patch, 2);
      demoted.set_value();
      std::this_thread::sleep_for(std::chrono::milliseconds(300));  // B must wait for this commit
    });
  });
  demoted.get_future().wait();
  db().Write([&](soci::session& s) { second_count = store::CountActiveAdmins(s); });
  a.join();
  EXPECT_EQ(first_count, 2);
  EXPECT_EQ(second_count, 1) << "a concurrent transaction counted the admin being demoted";
}

TEST_P(UsersStoreTest, HostileTextInEveryFieldIsStoredVerbatim) {
  NewUser nu = Editor(Nasty() + "@x.com");
  nu.name = Nasty();
  nu.password_hash = Nasty();
  const auto id = Add(nu);
  const auto user = Get(id);
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(user->email, Nasty() + "@x.com");
  EXPECT_EQ(user->name, Nasty());
  const auto auth = db().ReadValue([&](soci::session& s) { return store::GetAuthByEmailKey(s, Nasty() + "@X.COM"); });
  ASSERT_TRUE(auth.has_value());
  EXPECT_EQ(auth->password_hash, Nasty());
  // The table is still there and holds just this row: nothing was executed.
  EXPECT_EQ(db().ReadValue([](soci::session& s) { return store::CountUsers(s); }), 1);
  // The JSON mapping keeps the text too (escaping is the serialiser's job).
  EXPECT_EQ(nlohmann::json::parse(ToJson(*user).dump())["name"], Nasty());

  const auto patched =
      db().WriteValue([&](soci::session& s) { return store::Update(s, id, Patch(std::nullopt, Nasty() + "2"), kNow); });
  EXPECT_EQ(patched->name, Nasty() + "2");
}

POSTE_INSTANTIATE_DB_TEST(UsersStoreTest);

}  // namespace
}  // namespace poste::users
