#include "db/migrations.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <future>
#include <set>

#include "db/dialect.hpp"
#include "support/db_fixture.hpp"

namespace poste::db {
namespace {

using poste::testing::TempDatabase;

std::vector<std::string> Names(const std::vector<Migration>& migrations) {
  std::vector<std::string> names;
  for (const auto& m : migrations) names.push_back(m.name);
  return names;
}

std::string ParseError(const std::vector<embedded::File>& files) {
  try {
    ParseMigrations(files);
  } catch (const MigrationError& error) {
    return error.what();
  }
  return "(accepted)";
}

TEST(MigrationFilesTest, SortsAndNamesValidFiles) {
  const auto parsed = ParseMigrations({{"0002_b.sql", "SELECT 2"}, {"0001_a.sql", "SELECT 1"}});
  EXPECT_EQ(Names(parsed), (std::vector<std::string>{"0001_a", "0002_b"}));
  EXPECT_EQ(parsed[1].version, 2);
  EXPECT_EQ(parsed[1].sql, "SELECT 2");
}

TEST(MigrationFilesTest, RefusesBadNamesDuplicatesGapsAndEmptyFiles) {
  EXPECT_NE(ParseError({{"1_a.sql", "x"}}).find("'1_a.sql' is misnamed"), std::string::npos);
  EXPECT_NE(ParseError({{"0001_A.sql", "x"}}).find("misnamed"), std::string::npos);
  EXPECT_NE(ParseError({{"0001_a.txt", "x"}}).find("misnamed"), std::string::npos);
  EXPECT_NE(ParseError({{"sub/0001_a.sql", "x"}}).find("misnamed"), std::string::npos);
  EXPECT_NE(ParseError({{"0001_a.sql", "x"}, {"0001_b.sql", "y"}})
                .find("duplicate migration version: 0001_a.sql and "
                      "0001_b.sql"),
            std::string::npos);
  EXPECT_NE(ParseError({{"0001_a.sql", "x"}, {"0003_c.sql", "y"}}).find("migration 2 is missing"), std::string::npos);
  EXPECT_NE(ParseError({{"0002_b.sql", "x"}}).find("migration 1 is missing"), std::string::npos);
  EXPECT_NE(ParseError({{"0001_a.sql", " \n"}}).find("0001_a.sql is empty"), std::string::npos);
}

TEST(MigrationFilesTest, BothDialectsHaveTheSameValidMigrations) {
  const auto sqlite = ParseMigrations(EmbeddedMigrations(Dialect::kSqlite));
  const auto postgres = ParseMigrations(EmbeddedMigrations(Dialect::kPostgres));
  EXPECT_FALSE(sqlite.empty());
  EXPECT_EQ(Names(sqlite), Names(postgres));
}

class MigrationsTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    try {
      temp_ = std::make_unique<TempDatabase>(GetParam(), /*migrate=*/false);
    } catch (const std::exception& error) {
      FAIL() << error.what();
    }
  }
  Database& db() { return temp_->db(); }
  bool HasTable(const std::string& table) {
    return db().ReadValue([&](soci::session& s) { return TableExists(s, GetParam(), table); });
  }
  std::unique_ptr<TempDatabase> temp_;
};

TEST_P(MigrationsTest, AppliesEmbeddedMigrationsOnceAndReportsState) {
  const auto all = Names(ParseMigrations(EmbeddedMigrations(GetParam())));
  MigrationState before = State(db());
  EXPECT_EQ(before.applied, 0u);
  EXPECT_EQ(before.pending, all.size());
  EXPECT_EQ(before.pending_names, all);
  EXPECT_FALSE(HasTable("schema_migrations")) << "State must not write";

  EXPECT_EQ(Migrate(db()), all);
  EXPECT_TRUE(HasTable("jobs"));
  const MigrationState after = State(db());
  EXPECT_EQ(after.applied, all.size());
  EXPECT_EQ(after.pending, 0u);

  EXPECT_TRUE(Migrate(db()).empty()) << "a second run applies nothing";
  EXPECT_EQ(State(db()).applied, all.size());
}

TEST_P(MigrationsTest, RunsEveryStatementOfAScriptAndRecordsIt) {
  const std::vector<embedded::File> files = {{"0001_notes.sql",
                                              "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n"
                                              "-- a comment between statements\n"
                                              "INSERT INTO notes (id, body) VALUES (1, 'one; with a semicolon');\n"
                                              "INSERT INTO notes (id, body) VALUES (2, 'two');\n"}};
  EXPECT_EQ(Migrate(db(), files), std::vector<std::string>{"0001_notes"});
  db().Read([](soci::session& s) {
    long long notes = 0;
    s << "SELECT COUNT(*) FROM notes", soci::into(notes);
    EXPECT_EQ(notes, 2);
    std::string name;
    long long applied_at = 0;
    s << "SELECT name, applied_at FROM schema_migrations WHERE version = 1", soci::into(name), soci::into(applied_at);
    EXPECT_EQ(name, "0001_notes");
    EXPECT_GT(applied_at, 1'600'000'000'000LL);  // epoch milliseconds
  });
}

TEST_P(MigrationsTest, AFailingMigrationIsRolledBackAndNamed) {
  std::vector<embedded::File> files = {
      {"0001_a.sql", "CREATE TABLE a (id INTEGER PRIMARY KEY);"},
      {"0002_b.sql",
       "CREATE TABLE b (id INTEGER PRIMARY KEY);\n"
       "INSERT INTO b (id) VALUES (1);\n"
       "CREATE TABLE broken (;\n"},
  };
  try {
    Migrate(db(), files);
    FAIL() << "the broken migration was applied";
  } catch (const MigrationError& error) {
    EXPECT_EQ(std::string(error.what()).rfind("migration 0002_b failed: ", 0), 0u) << error.what();
  }
  EXPECT_TRUE(HasTable("a"));
  EXPECT_FALSE(HasTable("b")) << "the statements before the failing one were kept";
  const MigrationState state = State(db(), files);
  EXPECT_EQ(state.applied, 1u);
  EXPECT_EQ(state.pending_names, std::vector<std::string>{"0002_b"});

  // Fixed (it never landed), the next run applies only what is pending.
  files[1].bytes = "CREATE TABLE b (id INTEGER PRIMARY KEY);";
  EXPECT_EQ(Migrate(db(), files), std::vector<std::string>{"0002_b"});
  EXPECT_TRUE(HasTable("b"));
}

TEST_P(MigrationsTest, RefusesADatabaseWhoseLandedMigrationWasRenamed) {
  Migrate(db(), {{"0001_a.sql", "CREATE TABLE a (id INTEGER);"}});
  try {
    Migrate(db(), {{"0001_renamed.sql", "CREATE TABLE a (id INTEGER);"}});
    FAIL() << "a renamed landed migration was accepted";
  } catch (const MigrationError& error) {
    EXPECT_NE(std::string(error.what()).find("'0001_a' but this binary calls it '0001_renamed'"), std::string::npos)
        << error.what();
  }
}

TEST_P(MigrationsTest, ConcurrentMigratorsApplyEachMigrationOnce) {
  // Several instances starting at once against one database.
  std::vector<std::unique_ptr<Database>> handles;
  for (int i = 0; i < 3; ++i) handles.push_back(Database::Open({temp_->url(), 1}));
  std::vector<std::future<std::vector<std::string>>> runs;
  for (auto& handle : handles) {
    runs.push_back(std::async(std::launch::async, [&handle] { return Migrate(*handle); }));
  }
  std::multiset<std::string> applied;
  for (auto& run : runs) {
    for (auto& name : run.get()) applied.insert(name);
  }
  const auto all = Names(ParseMigrations(EmbeddedMigrations(GetParam())));
  EXPECT_EQ(applied, std::multiset<std::string>(all.begin(), all.end()));
  EXPECT_EQ(State(db()).pending, 0u);
  EXPECT_EQ(State(db()).applied, all.size());
}

INSTANTIATE_TEST_SUITE_P(Db, MigrationsTest, ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         poste::testing::DbTestName);

}  // namespace
}  // namespace poste::db
