#pragma once
// Numbered schema migrations (migrations/<dialect>/NNNN_name.sql, embedded in the binary), applied in
// order, each in its own transaction together with its row in schema_migrations(version, name, applied_at).
// Landed migrations are never edited: a change is a new file, in both dialects' folders.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "lib/embedded.hpp"

namespace poste::db {

// A bad migration set or a failing migration. The message names the migration, e.g.
// "migration 0002_jobs failed: near \"TABLE\": syntax error".
class MigrationError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Migration {
  int version = 0;
  std::string name;  // "0002_jobs" (the file name without ".sql")
  std::string_view sql;
};

// Checks names (NNNN_lowercase_name.sql), versions 1, 2, 3... without gaps or duplicates, and returns them
// sorted. Throws MigrationError naming the offending file.
std::vector<Migration> ParseMigrations(const std::vector<embedded::File>& files);

// The embedded migrations of a dialect.
const std::vector<embedded::File>& EmbeddedMigrations(Dialect dialect);

// Applies the pending migrations in order; returns the names applied (empty when up to date). A failing
// migration leaves the database as it was before it (earlier ones stay applied) and throws MigrationError.
// Safe to run from several processes at once (PostgreSQL: an advisory lock; SQLite: the write lock).
std::vector<std::string> Migrate(Database& db);
std::vector<std::string> Migrate(Database& db, const std::vector<embedded::File>& files);

struct MigrationState {
  std::size_t applied = 0;                 // rows in schema_migrations
  std::size_t pending = 0;                 // known migrations not applied yet (/readyz: ready when 0)
  std::vector<std::string> pending_names;  // in the order they would be applied
};
// Read-only: does not create the bookkeeping table.
MigrationState State(Database& db);
MigrationState State(Database& db, const std::vector<embedded::File>& files);

}  // namespace poste::db
