#pragma once
// Everything that differs between SQLite and PostgreSQL lives here (and in the numbered migration files),
// so that store code stays portable: `:name` placeholders, RETURNING, ON CONFLICT, epoch-ms integers.
#include <exception>
#include <memory>
#include <string>
#include <string_view>

namespace soci {
class session;
}

namespace poste::db {

enum class Dialect { kSqlite, kPostgres };

// "sqlite" or "postgres": used in test names, logs and metrics labels.
std::string_view DialectName(Dialect dialect);

// Per-connection settings applied when a connection is opened (and again after a reconnect).
struct SessionSettings {
  int busy_timeout_ms = 5000;  // SQLite: how long a statement waits for another connection's lock
  bool read_only = false;      // SQLite: PRAGMA query_only, so a write through Database::Read fails loudly
};
void ConfigureSession(soci::session& session, Dialect dialect, const SessionSettings& settings);

// Re-opens a PostgreSQL connection that the server dropped (restart, idle timeout); SQLite has nothing to do.
void EnsureConnected(soci::session& session, Dialect dialect, const SessionSettings& settings);

// Transactions. Begin takes SQLite's write lock up front (BEGIN IMMEDIATE), so a writer waits busy_timeout
// for another process's writer instead of failing half-way with SQLITE_BUSY. Commit throws when PostgreSQL
// already aborted the transaction (an error that fn caught), where a plain COMMIT would roll back silently.
// Rollback never throws: it runs while another exception is on its way out.
void BeginTransaction(soci::session& session, Dialect dialect);
void CommitTransaction(soci::session& session, Dialect dialect);
void RollbackTransaction(soci::session& session, Dialect dialect) noexcept;

// BEGIN IMMEDIATE and COMMIT of one SQLite session, prepared once: the writer runs both for every
// transaction, and parsing them each time was a visible share of a campaign's sent marks. Destroy it before
// the session (a statement left unfinalized keeps the connection open).
class SqliteTransactions {
 public:
  explicit SqliteTransactions(soci::session& session);
  ~SqliteTransactions();
  SqliteTransactions(const SqliteTransactions&) = delete;
  SqliteTransactions& operator=(const SqliteTransactions&) = delete;
  void Begin();
  void Commit();

 private:
  struct Statements;
  std::unique_ptr<Statements> statements_;
};

// Runs a script of several statements. SOCI's SQLite backend prepares only the first statement of a string,
// so scripts go through the native handle (sqlite3_exec / PQexec). Throws std::runtime_error with the
// server's message when a statement fails.
void ExecScript(soci::session& session, Dialect dialect, const std::string& sql);

// Whether a table exists in the connection's schema (used before the bookkeeping table is created).
bool TableExists(soci::session& session, Dialect dialect, const std::string& table);

// Serialises migrations between processes sharing one PostgreSQL database; call inside a transaction.
// SQLite needs nothing: its writer transactions (BEGIN IMMEDIATE) already exclude each other.
void LockMigrations(soci::session& session, Dialect dialect);

// " FOR UPDATE SKIP LOCKED" on PostgreSQL, so concurrent claimers pass over each other's rows; empty on
// SQLite, where the single writer connection already serialises claims.
std::string_view ForUpdateSkipLocked(Dialect dialect);
// " FOR UPDATE" on PostgreSQL (row locks held to the end of the transaction); "" on SQLite, whose single
// writer already serialises write transactions.
std::string_view ForUpdate(Dialect dialect);
// The dialect of an open session (for store code that has only the session).
Dialect DialectOf(soci::session& session);

// The case-insensitive LIKE operator ("ILIKE" on PostgreSQL; SQLite's LIKE already ignores ASCII case).
std::string_view CaseInsensitiveLike(Dialect dialect);

// Whether an exception thrown by a statement is a UNIQUE / PRIMARY KEY violation (to map it to a 409).
bool IsUniqueViolation(const std::exception& error);

}  // namespace poste::db
