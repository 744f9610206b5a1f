#include "db/dialect.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <future>
#include <stdexcept>

#include "db/database.hpp"
#include "support/db_fixture.hpp"

namespace poste::db {
namespace {

using namespace std::chrono_literals;

class DialectTest : public poste::testing::DbTest {
 protected:
  void CreateItems() {
    db().Write([&](soci::session& s) {
      ExecScript(s, dialect(),
                 "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);"
                 "INSERT INTO items (id, name) VALUES (1, 'Alpha');"
                 "INSERT INTO items (id, name) VALUES (2, 'beta');"
                 "INSERT INTO items (id, name) VALUES (3, 'Gamma');");
    });
  }
  long long Count(const std::string& where) {
    return db().ReadValue([&](soci::session& s) {
      long long n = 0;
      s << "SELECT COUNT(*) FROM items WHERE " + where, soci::into(n);
      return n;
    });
  }
};

TEST_P(DialectTest, ExecScriptRunsEveryStatement) {
  CreateItems();
  EXPECT_EQ(Count("1 = 1"), 3);
}

TEST_P(DialectTest, ExecScriptReportsTheServersError) {
  try {
    db().Write([&](soci::session& s) { ExecScript(s, dialect(), "CREATE TABLE ok (x INTEGER); SELEC nonsense;"); });
    FAIL() << "a syntax error went unnoticed";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("syntax error"), std::string::npos) << error.what();
  }
  EXPECT_FALSE(db().ReadValue([&](soci::session& s) { return TableExists(s, dialect(), "ok"); }));
}

TEST_P(DialectTest, TableExists) {
  CreateItems();
  db().Read([&](soci::session& s) {
    EXPECT_TRUE(TableExists(s, dialect(), "items"));
    EXPECT_TRUE(TableExists(s, dialect(), "jobs"));  // the fixture's database is migrated
    EXPECT_FALSE(TableExists(s, dialect(), "nope"));
  });
}

TEST_P(DialectTest, RecognisesUniqueViolationsOnly) {
  CreateItems();
  const auto error_of = [&](const std::string& sql) -> std::exception_ptr {
    try {
      db().Write([&](soci::session& s) { s << sql; });
    } catch (...) {
      return std::current_exception();
    }
    return nullptr;
  };
  const auto is_unique = [](const std::exception_ptr& error) {
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      return IsUniqueViolation(e);
    }
  };
  const auto duplicate_name = error_of("INSERT INTO items (id, name) VALUES (9, 'beta')");
  const auto duplicate_key = error_of("INSERT INTO items (id, name) VALUES (1, 'new')");
  const auto null_name = error_of("INSERT INTO items (id, name) VALUES (10, NULL)");
  const auto syntax = error_of("INSERT INTO nowhere VALUES (1)");
  ASSERT_TRUE(duplicate_name && duplicate_key && null_name && syntax);
  EXPECT_TRUE(is_unique(duplicate_name));
  EXPECT_TRUE(is_unique(duplicate_key));
  EXPECT_FALSE(is_unique(null_name));
  EXPECT_FALSE(is_unique(syntax));
  EXPECT_FALSE(IsUniqueViolation(std::runtime_error("UNIQUE constraint failed")));
}

TEST_P(DialectTest, CaseInsensitiveLike) {
  CreateItems();
  EXPECT_EQ(Count("name " + std::string(CaseInsensitiveLike(dialect())) + " 'alp%'"), 1);
  EXPECT_EQ(Count("name " + std::string(CaseInsensitiveLike(dialect())) + " '%A%'"), 3);
}

TEST_P(DialectTest, ForUpdateSkipLockedPassesOverRowsAnotherTransactionHolds) {
  CreateItems();
  const std::string pick = "SELECT id FROM items ORDER BY id LIMIT 1" + std::string(ForUpdateSkipLocked(dialect()));
  const auto claim = [&] {
    return db().WriteValue([&](soci::session& s) {
      int id = 0;
      s << pick, soci::into(id);
      return id;
    });
  };
  if (dialect() == Dialect::kSqlite) {
    EXPECT_EQ(claim(), 1);  // valid SQL; SQLite's single writer serialises claims instead
    return;
  }
  std::promise<void> locked;
  std::promise<void> release;
  auto holder = std::async(std::launch::async, [&] {
    return db().WriteValue([&](soci::session& s) {
      int id = 0;
      s << pick, soci::into(id);
      locked.set_value();
      release.get_future().wait_for(10s);
      return id;
    });
  });
  ASSERT_EQ(locked.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(claim(), 2);
  release.set_value();
  EXPECT_EQ(holder.get(), 1);
}

TEST(DialectNameTest, Names) {
  EXPECT_EQ(DialectName(Dialect::kSqlite), "sqlite");
  EXPECT_EQ(DialectName(Dialect::kPostgres), "postgres");
}

POSTE_INSTANTIATE_DB_TEST(DialectTest);

}  // namespace
}  // namespace poste::db
