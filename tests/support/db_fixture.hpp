#pragma once
// Runs a test body against a fresh SQLite database (a temp file) and a fresh database on a real PostgreSQL
// server. Use:
//   class JobQueueTest : public poste::testing::DbTest {};
//   TEST_P(JobQueueTest, Claims) { ... db() ... }
//   POSTE_INSTANTIATE_DB_TEST(JobQueueTest);   // -> Db/JobQueueTest.Claims/sqlite and .../postgres
// PostgreSQL comes from env POSTE_TEST_PG_URL (an admin connection, e.g.
// postgresql://postgres@127.0.0.1:PORT/postgres). Without it the postgres variant FAILS (never skips).
#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <ostream>
#include <string>

#include "db/database.hpp"

namespace poste::testing {

// A fresh, uniquely named database, deleted when this object dies: a SQLite file in its own temp directory,
// or a database created on the server named by POSTE_TEST_PG_URL. Throws std::runtime_error saying what to
// do when PostgreSQL is not configured or not reachable.
class TempDatabase {
 public:
  // migrate = false gives an empty database (for the migration tests themselves).
  explicit TempDatabase(db::Dialect dialect, bool migrate = true, std::size_t pool_size = 4);
  ~TempDatabase();
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  db::Database& db() { return *db_; }
  db::Dialect dialect() const { return dialect_; }
  // The database's URL, for a second Database or another process on the same data.
  const std::string& url() const { return url_; }
  // Closes the pool early (e.g. before another process opens a SQLite file exclusively); db() is then invalid.
  void Close() { db_.reset(); }

 private:
  void Delete() noexcept;

  db::Dialect dialect_;
  std::string name_;  // SQLite: the temp directory; PostgreSQL: the database name
  std::string url_;
  std::unique_ptr<db::Database> db_;
};

class DbTest : public ::testing::TestWithParam<db::Dialect> {
 protected:
  void SetUp() override;
  void TearDown() override;

  db::Database& db() { return temp_->db(); }
  const std::string& db_url() const { return temp_->url(); }
  db::Dialect dialect() const { return GetParam(); }

 private:
  std::unique_ptr<TempDatabase> temp_;
};

// "sqlite" / "postgres".
std::string DbTestName(const ::testing::TestParamInfo<db::Dialect>& info);

}  // namespace poste::testing

namespace poste::db {
// So that GoogleTest prints "sqlite" / "postgres" instead of the enum's bytes.
inline void PrintTo(Dialect dialect, std::ostream* os) { *os << DialectName(dialect); }
}  // namespace poste::db

#define POSTE_INSTANTIATE_DB_TEST(Suite)                                                                      \
  INSTANTIATE_TEST_SUITE_P(Db, Suite,                                                                         \
                           ::testing::Values(::poste::db::Dialect::kSqlite, ::poste::db::Dialect::kPostgres), \
                           ::poste::testing::DbTestName)
