#include "db/database.hpp"

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <vector>

#include "db/connection_pool.hpp"
#include "db/database_url.hpp"
#include "db/sqlite_checkpointer.hpp"
#include "lib/error.hpp"

namespace poste::db {
namespace {

constexpr const char* kUnavailable = "The database is unavailable.";

// The Database a thread is writing through, to turn a nested Write into an error instead of a deadlock.
thread_local const void* tl_writing = nullptr;

class WritingScope {
 public:
  explicit WritingScope(const void* db) : previous_(tl_writing) {
    if (previous_ == db) {
      throw AppError::Internal("Database::Write called inside a Write on the same thread (it would deadlock)");
    }
    tl_writing = db;
  }
  ~WritingScope() { tl_writing = previous_; }
  WritingScope(const WritingScope&) = delete;
  WritingScope& operator=(const WritingScope&) = delete;

 private:
  const void* previous_;
};

std::string SqliteConnectString(const std::string& path) {
  // SOCI splits its connect string on spaces; a quoted value may contain them.
  if (path.find_first_of(" \t") == std::string::npos) return "db=" + path;
  return "db=\"" + path + "\"";
}

std::unique_ptr<soci::session> Connect(const DatabaseTarget& target, const SessionSettings& settings,
                                       const std::string& redacted_url) {
  try {
    std::unique_ptr<soci::session> session;
    if (target.dialect == Dialect::kSqlite) {
      session = std::make_unique<soci::session>(soci::sqlite3, SqliteConnectString(target.location));
    } else {
      // By name: SOCI loads its PostgreSQL backend (and libpq) now, not every process at start-up (idle RSS;
      // cmake/Dependencies.cmake).
      session = std::make_unique<soci::session>(std::string("postgresql"), target.location);
    }
    ConfigureSession(*session, target.dialect, settings);
    return session;
  } catch (const AppError&) {
    throw;
  } catch (const std::exception& error) {
    throw AppError::Unavailable(kUnavailable, "cannot open the " + std::string(DialectName(target.dialect)) +
                                                  " database " + redacted_url + ": " + error.what());
  }
}

// Once per process, before the first SQLite connection: no page-cache slots allocated up front, no memory
// statistics. SQLite's
// default gives every connection 20 slots (~88 KB, written at once) before it reads a page; the writer and
// 8 readers held ~0.7 MB of them at idle (bench/RESULTS.md, issue 2). Pages are allocated as they are read.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    // SQLITE_MISUSE when SQLite was already initialised (someone opened a database first): nothing lost.
    sqlite_api::sqlite3_config(SQLITE_CONFIG_PAGECACHE, static_cast<void*>(nullptr), 0, 0);
    // No memory statistics: nothing reads them, and keeping them takes a process-wide mutex around every
    // allocation SQLite makes (a visible share of a campaign's sent marks).
    sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  });
}

void CreateParentDirectory(const std::string& path, const std::string& redacted_url) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) {
    throw AppError::Unavailable(
        kUnavailable, "cannot create the directory of the SQLite database " + redacted_url + ": " + ec.message());
  }
}

}  // namespace

struct Database::Impl {
  Dialect dialect = Dialect::kSqlite;
  std::chrono::milliseconds acquire_timeout{30000};
  std::unique_ptr<ConnectionPool> pool;              // SQLite: the readers; PostgreSQL: every session
  std::unique_ptr<soci::session> writer;             // SQLite only
  std::unique_ptr<SqliteTransactions> transactions;  // SQLite only: the writer's; destroyed before it
  std::unique_ptr<SqliteCheckpointer> checkpointer;  // SQLite only; destroyed before the writer
  std::timed_mutex writer_mutex;
  std::atomic<bool> writer_in_use{false};
};

Database::Database(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Database::~Database() = default;

std::unique_ptr<Database> Database::Open(const DatabaseConfig& config) {
  const DatabaseTarget target = ParseDatabaseUrl(config.url);
  const std::string redacted = RedactUrl(config.url);
  auto impl = std::make_unique<Impl>();
  impl->dialect = target.dialect;
  impl->acquire_timeout = std::chrono::milliseconds(std::max(1, config.acquire_timeout_ms));
  const std::size_t size = std::max<std::size_t>(1, config.pool_size);

  SessionSettings settings{std::max(0, config.busy_timeout_ms), false};
  if (target.dialect == Dialect::kSqlite) {
    ConfigureSqliteOnce();
    CreateParentDirectory(target.location, redacted);
    // The writer first: it creates the file and switches it to WAL before the readers open it.
    impl->writer = Connect(target, settings, redacted);
    impl->transactions = std::make_unique<SqliteTransactions>(*impl->writer);
    impl->checkpointer = std::make_unique<SqliteCheckpointer>(
        *impl->writer, [target, settings, redacted] { return Connect(target, settings, redacted); });
    settings.read_only = true;
  }
  std::vector<std::unique_ptr<soci::session>> sessions;
  for (std::size_t i = 0; i < size; ++i) sessions.push_back(Connect(target, settings, redacted));
  const Dialect dialect = target.dialect;
  impl->pool = std::make_unique<ConnectionPool>(
      std::move(sessions), impl->acquire_timeout, [dialect, settings, redacted](soci::session& session) {
        try {
          EnsureConnected(session, dialect, settings);
        } catch (const std::exception& error) {
          throw AppError::Unavailable(kUnavailable, "cannot reconnect to " + redacted + ": " + error.what());
        }
      });
  spdlog::debug("database open: {} {} ({} pooled connections{})", DialectName(dialect), redacted, size,
                dialect == Dialect::kSqlite ? " + 1 writer" : "");
  return std::unique_ptr<Database>(new Database(std::move(impl)));
}

Dialect Database::dialect() const { return impl_->dialect; }

void Database::Read(const std::function<void(soci::session&)>& fn) {
  auto lease = impl_->pool->Acquire();
  fn(*lease);
}

void Database::Write(const std::function<void(soci::session&)>& fn) {
  WritingScope scope(this);
  SqliteTransactions* prepared = impl_->transactions.get();
  const auto run = [&](soci::session& session) {
    prepared != nullptr ? prepared->Begin() : BeginTransaction(session, impl_->dialect);
    try {
      fn(session);
      prepared != nullptr ? prepared->Commit() : CommitTransaction(session, impl_->dialect);
    } catch (...) {
      RollbackTransaction(session, impl_->dialect);
      throw;
    }
  };
  if (impl_->dialect == Dialect::kPostgres) {
    auto lease = impl_->pool->Acquire();
    run(*lease);
    return;
  }
  std::unique_lock lock(impl_->writer_mutex, std::defer_lock);
  if (!lock.try_lock_for(impl_->acquire_timeout)) {
    throw AppError::Unavailable(
        "The database is busy; try again shortly.",
        "the SQLite writer stayed busy for " + std::to_string(impl_->acquire_timeout.count()) + " ms");
  }
  impl_->writer_in_use = true;
  struct Clear {
    std::atomic<bool>& flag;
    ~Clear() { flag = false; }
  } clear{impl_->writer_in_use};
  run(*impl_->writer);
}

bool Database::Ping() {
  try {
    int one = 0;
    Read([&](soci::session& session) { session << "SELECT 1", soci::into(one); });
    return one == 1;
  } catch (const std::exception& error) {
    spdlog::warn("database ping failed: {}", error.what());
    return false;
  }
}

Database::PoolStats Database::Stats() const {
  PoolStats stats{impl_->pool->Size(), impl_->pool->InUse()};
  if (impl_->writer) {
    stats.size += 1;
    stats.in_use += impl_->writer_in_use ? 1 : 0;
  }
  if (impl_->checkpointer) stats.checkpoints = impl_->checkpointer->checkpoints();
  return stats;
}

}  // namespace poste::db
