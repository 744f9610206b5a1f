// Opening: what each dialect sets up per connection, and the errors for what cannot be opened.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "support/db_fixture.hpp"

namespace poste::db {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("poste_open_" + std::to_string(::getpid()) + "_" + Next())) {
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  static std::string Next() {
    static int n = 0;
    return std::to_string(++n);
  }
  fs::path path_;
};

AppError OpenError(const DatabaseConfig& config) {
  try {
    Database::Open(config);
  } catch (const AppError& error) {
    return error;
  }
  ADD_FAILURE() << "opening " << config.url << " succeeded";
  return AppError::Internal("no error");
}

struct Pragmas {
  std::string journal_mode;
  int foreign_keys = -1, synchronous = -1, busy_timeout = -1, query_only = -1;
};

Pragmas ReadPragmas(soci::session& s) {
  Pragmas p;
  s << "PRAGMA journal_mode", soci::into(p.journal_mode);
  s << "PRAGMA foreign_keys", soci::into(p.foreign_keys);
  s << "PRAGMA synchronous", soci::into(p.synchronous);
  s << "PRAGMA busy_timeout", soci::into(p.busy_timeout);
  s << "PRAGMA query_only", soci::into(p.query_only);
  return p;
}

TEST(DatabaseOpenTest, SqliteCreatesTheParentDirectoryAndConfiguresEveryConnection) {
  TempDir dir;
  const fs::path file = dir.path() / "nested" / "deeper" / "poste.db";
  auto db = Database::Open({"sqlite://" + file.string(), 2, 1234});
  EXPECT_EQ(db->dialect(), Dialect::kSqlite);
  EXPECT_TRUE(fs::exists(file));

  const Pragmas writer = db->WriteValue(ReadPragmas);
  EXPECT_EQ(writer.journal_mode, "wal");
  EXPECT_EQ(writer.foreign_keys, 1);
  EXPECT_EQ(writer.synchronous, 1);  // NORMAL
  EXPECT_EQ(writer.busy_timeout, 1234);
  EXPECT_EQ(writer.query_only, 0);

  const Pragmas reader = db->ReadValue(ReadPragmas);
  EXPECT_EQ(reader.journal_mode, "wal");
  EXPECT_EQ(reader.foreign_keys, 1);
  EXPECT_EQ(reader.synchronous, 1);
  EXPECT_EQ(reader.busy_timeout, 1234);
  EXPECT_EQ(reader.query_only, 1);
}

TEST(DatabaseOpenTest, SqlitePathWithASpaceWorks) {
  TempDir dir;
  const fs::path file = dir.path() / "with space" / "poste.db";
  auto db = Database::Open({file.string()});
  db->Write([](soci::session& s) { s << "CREATE TABLE t (x INTEGER)"; });
  EXPECT_TRUE(fs::exists(file));
}

// The WAL is checkpointed by the checkpointer's thread, not inside a commit: after writes past its
// threshold the thread has run, the database file holds the pages, and the WAL stays bounded (reused from
// its start once checkpointed) instead of growing with everything written.
TEST(DatabaseOpenTest, SqliteWalIsCheckpointedOffTheWritersPath) {
  TempDir dir;
  const fs::path file = dir.path() / "poste.db";
  auto db = Database::Open({file.string()});
  db->Write([](soci::session& s) { s << "CREATE TABLE t (x BLOB)"; });
  EXPECT_EQ(db->Stats().checkpoints, 0u);
  const std::string page(4000, 'x');
  // Eight bursts of ~1,500 pages in 300 commits each (~6 MB), as a busy writer would.
  for (int round = 0; round < 8; ++round) {
    const auto before = db->Stats().checkpoints;
    for (int i = 0; i < 300; ++i) {
      db->Write([&](soci::session& s) {
        for (int j = 0; j < 5; ++j) s << "INSERT INTO t (x) VALUES (:x)", soci::use(page);
      });
    }
    for (int i = 0; i < 500 && db->Stats().checkpoints == before; ++i) std::this_thread::sleep_for(10ms);
    ASSERT_GT(db->Stats().checkpoints, before) << "round " << round;
  }
  EXPECT_GT(fs::file_size(file), 40'000'000u);  // the pages reached the database file
  // 48 MB went through the WAL, which started over after the backstop's checkpoints (4,000 pages, plus what
  // the commits wrote while the thread held the checkpoint).
  EXPECT_LT(fs::file_size(fs::path(file.string() + "-wal")), 32'000'000u);
  long long rows = 0;
  db->Read([&](soci::session& s) { s << "SELECT COUNT(*) FROM t", soci::into(rows); });
  EXPECT_EQ(rows, 12000);
}

TEST(DatabaseOpenTest, SqliteReadConnectionsRefuseWrites) {
  TempDir dir;
  auto db = Database::Open({(dir.path() / "poste.db").string()});
  db->Write([](soci::session& s) { s << "CREATE TABLE t (x INTEGER)"; });
  EXPECT_THROW(db->Read([](soci::session& s) { s << "INSERT INTO t (x) VALUES (1)"; }), soci::soci_error);
}

TEST(DatabaseOpenTest, SqliteUnusablePathsAreClearErrors) {
  TempDir dir;
  const fs::path blocker = dir.path() / "a-file";
  std::ofstream(blocker) << "not a directory";
  AppError error = OpenError({(blocker / "poste.db").string()});
  EXPECT_EQ(error.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(error.message(), "The database is unavailable.");
  EXPECT_NE(error.detail().find("a-file"), std::string::npos) << error.detail();

  const fs::path garbage = dir.path() / "garbage.db";
  std::ofstream(garbage) << std::string(4096, 'x');
  error = OpenError({garbage.string()});
  EXPECT_EQ(error.code(), ErrorCode::kUnavailable);
  EXPECT_NE(error.detail().find("not a database"), std::string::npos) << error.detail();
}

TEST(DatabaseOpenTest, UnreachablePostgresIsAClearErrorWithoutThePassword) {
  const auto started = std::chrono::steady_clock::now();
  const AppError error = OpenError({"postgresql://poste:hunter2@127.0.0.1:1/poste"});
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  EXPECT_EQ(error.code(), ErrorCode::kUnavailable);
  EXPECT_EQ(error.message(), "The database is unavailable.");
  EXPECT_NE(error.detail().find("postgres database postgresql://poste:***@127.0.0.1:1/poste"), std::string::npos)
      << error.detail();
  EXPECT_EQ(error.detail().find("hunter2"), std::string::npos);
  EXPECT_EQ(std::string(error.what()).find("hunter2"), std::string::npos);
}

TEST(DatabaseOpenTest, UnknownPostgresDatabaseIsAClearError) {
  testing::TempDatabase server(Dialect::kPostgres, /*migrate=*/false, 1);
  std::string url = server.url();
  url.insert(url.find('?') == std::string::npos ? url.size() : url.find('?'), "_missing");
  const AppError error = OpenError({url});
  EXPECT_EQ(error.code(), ErrorCode::kUnavailable);
  EXPECT_NE(error.detail().find("does not exist"), std::string::npos) << error.detail();
}

TEST(DatabaseOpenTest, PostgresReconnectsConnectionsTheServerDropped) {
  testing::TempDatabase admin(Dialect::kPostgres, /*migrate=*/false, 1);
  auto victim = Database::Open({admin.url(), 2});
  // Both pooled sessions are connected and idle; now the server ends them (as a restart would).
  const auto others = [&] {
    return admin.db().ReadValue([](soci::session& s) {
      long long n = 0;
      s << "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
          soci::into(n);
      return n;
    });
  };
  ASSERT_EQ(others(), 2);
  admin.db().Read([](soci::session& s) {
    long long n = 0;
    s << "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
         " WHERE datname = current_database() AND pid <> pg_backend_pid()",
        soci::into(n);
  });
  for (int i = 0; i < 500 && others() != 0; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(others(), 0);
  // A backend leaves pg_stat_activity a moment before its process exits and closes the socket; until then
  // the client cannot tell (the first query would fail, as after any server restart).
  std::this_thread::sleep_for(200ms);
  // Hold one session while using the other, so that both are revived.
  victim->Read([&](soci::session& s) {
    int one = 0;
    s << "SELECT 1", soci::into(one);
    EXPECT_EQ(one, 1);
    EXPECT_TRUE(victim->Ping());
  });
  EXPECT_EQ(others(), 2);
}

TEST(DatabaseOpenTest, PostgresNoticesDoNotReachStderr) {
  testing::TempDatabase server(Dialect::kPostgres, /*migrate=*/false, 1);
  ::testing::internal::CaptureStderr();
  server.db().Write([](soci::session& s) {
    s << "CREATE TABLE IF NOT EXISTS t (x INTEGER)";
    s << "CREATE TABLE IF NOT EXISTS t (x INTEGER)";  // NOTICE: relation "t" already exists, skipping
  });
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

}  // namespace
}  // namespace poste::db
