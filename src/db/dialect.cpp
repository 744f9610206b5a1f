#include "db/dialect.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

namespace poste::db {
namespace {

// soci-sqlite3.h includes <sqlite3.h> inside namespace sqlite_api.
namespace sq = sqlite_api;

// The backends' typeinfo is not exported by the SOCI libraries, so no dynamic_cast: the backend name says
// which class it is.
sq::sqlite3* SqliteHandle(soci::session& session) {
  soci::details::session_backend* backend = session.get_backend();
  if (backend == nullptr || backend->get_backend_name() != "sqlite3") throw std::logic_error("not a SQLite session");
  return static_cast<soci::sqlite3_session_backend*>(backend)->conn_;
}

// Null when the session lost its backend (a reconnect that failed half-way).
PGconn* PgHandle(soci::session& session) {
  soci::details::session_backend* backend = session.get_backend();
  if (backend == nullptr) return nullptr;
  if (backend->get_backend_name() != "postgresql") throw std::logic_error("not a PostgreSQL session");
  return static_cast<soci::postgresql_session_backend*>(backend)->conn_;
}

void SqliteExec(sq::sqlite3* conn, const std::string& sql) {
  char* message = nullptr;
  const int rc = sq::sqlite3_exec(conn, sql.c_str(), nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return;
  std::string text = message != nullptr ? message : sq::sqlite3_errstr(rc);
  sq::sqlite3_free(message);
  throw std::runtime_error(text);
}

void PgExec(PGconn* conn, const std::string& sql) {
  if (conn == nullptr) throw std::runtime_error("the PostgreSQL connection is closed");
  PGresult* result = PQexec(conn, sql.c_str());
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    PQclear(result);
    return;
  }
  std::string text = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  PQclear(result);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  throw std::runtime_error(text.empty() ? "PostgreSQL statement failed" : text);
}

// NOTICEs ("relation already exists, skipping", ...) would otherwise go to stderr, bypassing the JSON log.
void QuietNotice(void* /*arg*/, const char* message) { spdlog::debug("postgres notice: {}", message); }

}  // namespace

std::string_view DialectName(Dialect dialect) { return dialect == Dialect::kSqlite ? "sqlite" : "postgres"; }

void ConfigureSession(soci::session& session, Dialect dialect, const SessionSettings& settings) {
  if (dialect == Dialect::kPostgres) {
    PGconn* conn = PgHandle(session);
    if (conn == nullptr) throw std::runtime_error("the PostgreSQL connection is closed");
    PQsetNoticeProcessor(conn, &QuietNotice, nullptr);
    PgExec(conn, "SET client_min_messages = warning");
    return;
  }
  sq::sqlite3* conn = SqliteHandle(session);
  // WAL lets readers run while the writer writes; NORMAL is durable across application crashes in WAL mode
  // and only risks the last transactions on power loss, which is the usual trade for a server.
  // busy_timeout comes first so that switching to WAL waits for another process's lock instead of failing.
  std::string pragmas = "PRAGMA busy_timeout = " + std::to_string(settings.busy_timeout_ms) + ";";
  pragmas += " PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;";
  if (settings.read_only) pragmas += " PRAGMA query_only = ON;";
  SqliteExec(conn, pragmas);
}

void EnsureConnected(soci::session& session, Dialect dialect, const SessionSettings& settings) {
  if (dialect != Dialect::kPostgres) return;
  PGconn* conn = PgHandle(session);
  // PQstatus alone stays OK until a query fails on the dead socket. PQconsumeInput reads what the server sent
  // meanwhile without blocking (libpq sockets are non-blocking): a terminated backend sends a FATAL message,
  // read by the first call, then closes, which the second call sees as EOF.
  if (conn != nullptr && PQconsumeInput(conn) == 1 && PQconsumeInput(conn) == 1 && PQstatus(conn) == CONNECTION_OK) {
    return;
  }
  spdlog::warn("reconnecting a PostgreSQL connection that was closed");
  session.reconnect();
  ConfigureSession(session, dialect, settings);
}

void BeginTransaction(soci::session& session, Dialect dialect) {
  ExecScript(session, dialect, dialect == Dialect::kSqlite ? "BEGIN IMMEDIATE" : "BEGIN");
}

void CommitTransaction(soci::session& session, Dialect dialect) {
  if (dialect == Dialect::kPostgres) {
    PGconn* conn = PgHandle(session);
    if (conn != nullptr && PQtransactionStatus(conn) == PQTRANS_INERROR) {
      throw std::runtime_error("the transaction was aborted by an earlier statement error; nothing was committed");
    }
  }
  ExecScript(session, dialect, "COMMIT");
}

void RollbackTransaction(soci::session& session, Dialect dialect) noexcept {
  try {
    if (dialect == Dialect::kSqlite && sq::sqlite3_get_autocommit(SqliteHandle(session)) != 0) return;
    if (dialect == Dialect::kPostgres) {
      PGconn* conn = PgHandle(session);
      if (conn == nullptr || PQtransactionStatus(conn) == PQTRANS_IDLE) return;
    }
    ExecScript(session, dialect, "ROLLBACK");
  } catch (const std::exception& error) {
    // The connection is probably gone; EnsureConnected replaces it before its next use.
    spdlog::warn("rollback failed: {}", error.what());
  }
}

struct SqliteTransactions::Statements {
  sq::sqlite3* conn = nullptr;
  sq::sqlite3_stmt* begin = nullptr;
  sq::sqlite3_stmt* commit = nullptr;

  sq::sqlite3_stmt* Prepare(const char* sql) const {
    sq::sqlite3_stmt* stmt = nullptr;
    if (sq::sqlite3_prepare_v3(conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sq::sqlite3_errmsg(conn));
    }
    return stmt;
  }
  void Run(sq::sqlite3_stmt* stmt) const {
    const int rc = sq::sqlite3_step(stmt);
    sq::sqlite3_reset(stmt);
    if (rc != SQLITE_DONE) throw std::runtime_error(sq::sqlite3_errmsg(conn));
  }
  ~Statements() {
    sq::sqlite3_finalize(begin);  // a no-op on null
    sq::sqlite3_finalize(commit);
  }
};

SqliteTransactions::SqliteTransactions(soci::session& session) : statements_(std::make_unique<Statements>()) {
  statements_->conn = SqliteHandle(session);
  statements_->begin = statements_->Prepare("BEGIN IMMEDIATE");
  statements_->commit = statements_->Prepare("COMMIT");
}

SqliteTransactions::~SqliteTransactions() = default;

void SqliteTransactions::Begin() { statements_->Run(statements_->begin); }

void SqliteTransactions::Commit() { statements_->Run(statements_->commit); }

void ExecScript(soci::session& session, Dialect dialect, const std::string& sql) {
  if (dialect == Dialect::kSqlite) {
    SqliteExec(SqliteHandle(session), sql);
  } else {
    PgExec(PgHandle(session), sql);
  }
}

bool TableExists(soci::session& session, Dialect dialect, const std::string& table) {
  long long count = 0;
  if (dialect == Dialect::kSqlite) {
    session << "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = :name", soci::use(table),
        soci::into(count);
  } else {
    session << "SELECT COUNT(*) FROM information_schema.tables"
               " WHERE table_schema = current_schema() AND table_name = :name",
        soci::use(table), soci::into(count);
  }
  return count > 0;
}

void LockMigrations(soci::session& session, Dialect dialect) {
  if (dialect != Dialect::kPostgres) return;
  // An arbitrary constant key ("poste migrations"); released when the transaction ends.
  PgExec(PgHandle(session), "SELECT pg_advisory_xact_lock(7368200771001)");
}

std::string_view ForUpdateSkipLocked(Dialect dialect) {
  return dialect == Dialect::kPostgres ? " FOR UPDATE SKIP LOCKED" : "";
}

std::string_view ForUpdate(Dialect dialect) { return dialect == Dialect::kPostgres ? " FOR UPDATE" : ""; }

Dialect DialectOf(soci::session& session) {
  auto* backend = session.get_backend();
  return backend != nullptr && backend->get_backend_name() == "postgresql" ? Dialect::kPostgres : Dialect::kSqlite;
}

std::string_view CaseInsensitiveLike(Dialect dialect) { return dialect == Dialect::kPostgres ? "ILIKE" : "LIKE"; }

bool IsUniqueViolation(const std::exception& error) {
  if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error)) return pg->sqlstate() == "23505";
  if (const auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&error)) {
    // The extended code (2067 / 1555) when extended codes are on, the primary one (19) otherwise.
    if ((lite->result() & 0xff) != SQLITE_CONSTRAINT) return false;
    const std::string_view what = lite->what();
    return what.find("UNIQUE constraint failed") != std::string_view::npos ||
           what.find("PRIMARY KEY") != std::string_view::npos;
  }
  return false;
}

}  // namespace poste::db
