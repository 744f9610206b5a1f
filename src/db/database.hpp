#pragma once
// The one handle on the database: a SQLite file (one writer connection + a reader pool) or a PostgreSQL
// server (a pool). All calls block: from a coroutine, run them through `co_await blocking(...)`.
// SOCI stays out of this header; store code includes <soci/soci.h> itself.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "db/dialect.hpp"

namespace soci {
class session;
}

namespace poste::db {

struct DatabaseConfig {
  // "postgresql://user:pass@host:port/db?..." (or "postgres://") selects PostgreSQL; anything else is a
  // SQLite file path (an optional "sqlite://" prefix is stripped) whose parent directory is created.
  std::string url;
  std::size_t pool_size = 4;       // SQLite: readers (the writer is extra); PostgreSQL: sessions
  int busy_timeout_ms = 5000;      // SQLite: how long a statement waits for a lock held by another connection
  int acquire_timeout_ms = 30000;  // how long a call waits for a free connection before failing with 503
};

class Database {
 public:
  // Connects every pooled connection up front, so a bad URL fails at start-up. Throws AppError::Unavailable
  // (a public message; the detail names the redacted URL and the driver's reason) when it cannot.
  static std::unique_ptr<Database> Open(const DatabaseConfig& config);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Dialect dialect() const;

  // Runs fn on a pooled connection outside any explicit transaction. On SQLite the connection is a reader
  // (query_only), so a write through Read fails there and the SQLite run of a store test catches it. Inside a Write,
  // keep using the Write's session: a Read there runs on another connection and does not see the uncommitted changes.
  void Read(const std::function<void(soci::session&)>& fn);

  // Runs fn in a transaction, committed when fn returns and rolled back when it throws (the exception is
  // rethrown). SQLite: the single writer connection, serialised, BEGIN IMMEDIATE (so the write lock is
  // taken up front and concurrent writers wait busy_timeout instead of failing mid-transaction).
  // PostgreSQL: a pooled session, READ COMMITTED. A Write nested in a Write on the same thread throws
  // (on SQLite it would wait for itself forever).
  void Write(const std::function<void(soci::session&)>& fn);

  template <class F>
  auto ReadValue(F&& fn) -> std::invoke_result_t<F&, soci::session&> {
    return Capture([this](const std::function<void(soci::session&)>& body) { Read(body); }, fn);
  }
  template <class F>
  auto WriteValue(F&& fn) -> std::invoke_result_t<F&, soci::session&> {
    return Capture([this](const std::function<void(soci::session&)>& body) { Write(body); }, fn);
  }

  // SELECT 1 on a reader; false (never a throw) when the database does not answer.
  bool Ping();

  struct PoolStats {
    std::size_t size = 0;         // connections (SQLite: readers + the writer)
    std::size_t in_use = 0;       // connections lent out right now
    std::size_t checkpoints = 0;  // SQLite: WAL checkpoints run off the writer's path (sqlite_checkpointer.hpp)
  };
  PoolStats Stats() const;

 private:
  struct Impl;
  explicit Database(std::unique_ptr<Impl> impl);

  template <class Run, class F>
  static auto Capture(Run&& run, F& fn) -> std::invoke_result_t<F&, soci::session&> {
    using R = std::invoke_result_t<F&, soci::session&>;
    if constexpr (std::is_void_v<R>) {
      run([&](soci::session& s) { fn(s); });
    } else {
      std::optional<R> out;
      run([&](soci::session& s) { out.emplace(fn(s)); });
      return std::move(*out);
    }
  }

  std::unique_ptr<Impl> impl_;
};

}  // namespace poste::db
