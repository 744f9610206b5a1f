#include "db/database.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

#include "lib/error.hpp"
#include "support/db_fixture.hpp"

namespace poste::db {
namespace {

using namespace std::chrono_literals;
using poste::testing::DbTest;
using poste::testing::TempDatabase;

long long CountRows(Database& db, const std::string& table) {
  return db.ReadValue([&](soci::session& s) {
    long long n = 0;
    s << "SELECT COUNT(*) FROM " + table, soci::into(n);
    return n;
  });
}

void CreateItems(Database& db) {
  db.Write([](soci::session& s) { s << "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"; });
}

// Waits until pred() holds, for at most `limit`; false on timeout (so a broken pool fails, not hangs).
template <class Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

class DatabaseTest : public DbTest {};

TEST_P(DatabaseTest, WriteCommitsWhenFnReturns) {
  CreateItems(db());
  db().Write([](soci::session& s) { s << "INSERT INTO items (id, name) VALUES (1, 'a')"; });
  EXPECT_EQ(CountRows(db(), "items"), 1);
}

TEST_P(DatabaseTest, WriteRollsBackAndRethrowsWhenFnThrows) {
  CreateItems(db());
  EXPECT_THROW(db().Write([](soci::session& s) {
    s << "INSERT INTO items (id, name) VALUES (1, 'a')";
    throw std::invalid_argument("boom");
  }),
               std::invalid_argument);
  // A failing statement after a successful one: both are undone.
  EXPECT_THROW(db().Write([](soci::session& s) {
    s << "INSERT INTO items (id, name) VALUES (2, 'b')";
    s << "INSERT INTO items (id, name) VALUES (3, 'b')";
  }),
               soci::soci_error);
  EXPECT_EQ(CountRows(db(), "items"), 0);
  // The writer connection is usable again afterwards.
  db().Write([](soci::session& s) { s << "INSERT INTO items (id, name) VALUES (4, 'd')"; });
  EXPECT_EQ(CountRows(db(), "items"), 1);
}

TEST_P(DatabaseTest, ACaughtStatementErrorNeverCommitsPartOfAnAbortedPostgresTransaction) {
  CreateItems(db());
  db().Write([](soci::session& s) { s << "INSERT INTO items (id, name) VALUES (1, 'a')"; });
  const auto swallow = [](soci::session& s) {
    s << "INSERT INTO items (id, name) VALUES (2, 'b')";
    try {
      s << "INSERT INTO items (id, name) VALUES (3, 'a')";
    } catch (const soci::soci_error&) {
    }
  };
  if (dialect() == Dialect::kPostgres) {
    // PostgreSQL aborted the whole transaction; a plain COMMIT would silently roll back and report success.
    EXPECT_THROW(db().Write(swallow), std::runtime_error);
    EXPECT_EQ(CountRows(db(), "items"), 1);
  } else {
    // SQLite undoes only the failed statement; the rest of the transaction stands.
    db().Write(swallow);
    EXPECT_EQ(CountRows(db(), "items"), 2);
  }
}

TEST_P(DatabaseTest, NestedWriteOnTheSameThreadThrowsInsteadOfDeadlocking) {
  CreateItems(db());
  try {
    db().Write([&](soci::session&) { db().Write([](soci::session&) {}); });
    FAIL() << "nested Write did not throw";
  } catch (const AppError& error) {
    EXPECT_EQ(error.code(), ErrorCode::kInternal);
    EXPECT_NE(error.detail().find("inside a Write"), std::string::npos);
  }
  db().Write([](soci::session& s) { s << "INSERT INTO items (id, name) VALUES (1, 'a')"; });  // not left locked
  EXPECT_EQ(CountRows(db(), "items"), 1);
}

TEST_P(DatabaseTest, ReadValueAndWriteValueReturnWhatFnReturns) {
  CreateItems(db());
  const long long id = db().WriteValue([](soci::session& s) {
    long long inserted = 0;
    s << "INSERT INTO items (id, name) VALUES (7, 'seven') RETURNING id", soci::into(inserted);
    return inserted;
  });
  EXPECT_EQ(id, 7);
  const std::string name = db().ReadValue([](soci::session& s) {
    std::string value;
    s << "SELECT name FROM items WHERE id = 7", soci::into(value);
    return value;
  });
  EXPECT_EQ(name, "seven");
}

TEST_P(DatabaseTest, ReadsRunWhileAWriteTransactionIsOpenAndSeeOnlyCommittedData) {
  CreateItems(db());
  std::promise<void> inserted;
  std::promise<void> read_done;
  auto writer = std::async(std::launch::async, [&] {
    db().Write([&](soci::session& s) {
      s << "INSERT INTO items (id, name) VALUES (1, 'a')";
      inserted.set_value();
      // Hold the transaction open until the reader has finished (bounded, so a bug fails instead of hanging).
      read_done.get_future().wait_for(10s);
    });
  });
  ASSERT_EQ(inserted.get_future().wait_for(10s), std::future_status::ready);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(CountRows(db(), "items"), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s) << "the read waited for the writer";
  read_done.set_value();
  writer.get();
  EXPECT_EQ(CountRows(db(), "items"), 1);
}

TEST_P(DatabaseTest, ReadersUseSeveralPooledConnectionsAtOnce) {
  const std::size_t readers = 4;  // the fixture's pool size
  std::atomic<std::size_t> inside{0};
  std::atomic<std::size_t> peak_in_use{0};
  std::vector<std::future<bool>> tasks;
  for (std::size_t i = 0; i < readers; ++i) {
    tasks.push_back(std::async(std::launch::async, [&] {
      bool all_inside = false;
      db().Read([&](soci::session& s) {
        int one = 0;
        s << "SELECT 1", soci::into(one);
        ++inside;
        all_inside = WaitFor([&] { return inside.load() == readers; });
        peak_in_use = std::max(peak_in_use.load(), db().Stats().in_use);
      });
      return all_inside;
    }));
  }
  for (auto& task : tasks) EXPECT_TRUE(task.get()) << "readers were serialised";
  EXPECT_EQ(peak_in_use.load(), readers);
  EXPECT_EQ(db().Stats().in_use, 0u);
}

TEST_P(DatabaseTest, AnExhaustedPoolFailsWithUnavailableAfterTheAcquireTimeout) {
  auto small = Database::Open({db_url(), 1, 5000, 100});
  small->Read([&](soci::session&) {
    try {
      small->Read([](soci::session&) {});
      ADD_FAILURE() << "a second connection was handed out from a pool of one";
    } catch (const AppError& error) {
      EXPECT_EQ(error.code(), ErrorCode::kUnavailable);
      EXPECT_NE(error.detail().find("pool of 1"), std::string::npos) << error.detail();
    }
  });
  EXPECT_TRUE(small->Ping());  // the connection went back to the pool
}

TEST_P(DatabaseTest, ConcurrentWritersFromTwoHandlesAllLand) {
  db().Write([](soci::session& s) {
    s << "CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)";
    s << "INSERT INTO counter (id, n) VALUES (1, 0)";
  });
  // A second handle stands in for a second process: on SQLite the two writers meet at the file lock.
  auto other = Database::Open({db_url(), 2});
  std::vector<std::future<void>> tasks;
  for (int t = 0; t < 4; ++t) {
    Database& target = t % 2 == 0 ? db() : *other;
    tasks.push_back(std::async(std::launch::async, [&target] {
      for (int i = 0; i < 25; ++i) {
        target.Write([](soci::session& s) { s << "UPDATE counter SET n = n + 1 WHERE id = 1"; });
      }
    }));
  }
  for (auto& task : tasks) task.get();
  const int n = db().ReadValue([](soci::session& s) {
    int value = 0;
    s << "SELECT n FROM counter WHERE id = 1", soci::into(value);
    return value;
  });
  EXPECT_EQ(n, 100);
}

TEST_P(DatabaseTest, PingAndPoolStats) {
  EXPECT_TRUE(db().Ping());
  const auto stats = db().Stats();
  EXPECT_EQ(stats.size, dialect() == Dialect::kSqlite ? 5u : 4u);  // SQLite: 4 readers + the writer
  EXPECT_EQ(stats.in_use, 0u);
  db().Read([&](soci::session&) { EXPECT_EQ(db().Stats().in_use, 1u); });
  db().Write([&](soci::session&) { EXPECT_EQ(db().Stats().in_use, 1u); });
}

POSTE_INSTANTIATE_DB_TEST(DatabaseTest);

}  // namespace
}  // namespace poste::db
