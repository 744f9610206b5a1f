#include "db/migrations.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <regex>

namespace poste::db {
namespace {

// In code rather than in migration 0001: Migrate and State must read it before anything was applied.
constexpr const char* kCreateBookkeeping =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// version -> name, as recorded in schema_migrations.
std::map<int, std::string> ReadApplied(soci::session& session) {
  std::map<int, std::string> applied;
  int version = 0;
  std::string name;
  soci::statement st = (session.prepare << "SELECT version, name FROM schema_migrations ORDER BY version",
                        soci::into(version), soci::into(name));
  st.execute();
  while (st.fetch()) applied.emplace(version, name);
  return applied;
}

std::string FileName(const Migration& m) { return m.name + ".sql"; }

}  // namespace

std::vector<Migration> ParseMigrations(const std::vector<embedded::File>& files) {
  static const std::regex name_format(R"(^([0-9]{4})_([a-z0-9_]+)\.sql$)");
  std::vector<Migration> out;
  for (const auto& file : files) {
    const std::string path(file.path);
    std::smatch match;
    if (!std::regex_match(path, match, name_format)) {
      throw MigrationError("migration file '" + path + "' is misnamed: expected NNNN_name.sql (e.g. 0002_jobs.sql)");
    }
    if (file.bytes.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      throw MigrationError("migration " + path + " is empty");
    }
    out.push_back({std::stoi(match[1].str()), path.substr(0, path.size() - 4), file.bytes});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int expected = static_cast<int>(i) + 1;
    if (i > 0 && out[i].version == out[i - 1].version) {
      throw MigrationError("duplicate migration version: " + FileName(out[i - 1]) + " and " + FileName(out[i]));
    }
    if (out[i].version != expected) {
      throw MigrationError("migration " + std::to_string(expected) + " is missing: versions must count up from 0001 " +
                           "without gaps, found " + FileName(out[i]));
    }
  }
  return out;
}

const std::vector<embedded::File>& EmbeddedMigrations(Dialect dialect) {
  return dialect == Dialect::kSqlite ? embedded::SqliteMigrations() : embedded::PostgresMigrations();
}

std::vector<std::string> Migrate(Database& db) { return Migrate(db, EmbeddedMigrations(db.dialect())); }

std::vector<std::string> Migrate(Database& db, const std::vector<embedded::File>& files) {
  const std::vector<Migration> migrations = ParseMigrations(files);
  const Dialect dialect = db.dialect();
  try {
    db.Write([&](soci::session& s) {
      LockMigrations(s, dialect);
      ExecScript(s, dialect, kCreateBookkeeping);
    });
  } catch (const std::exception& error) {
    throw MigrationError(std::string("cannot create schema_migrations: ") + error.what());
  }
  const auto applied = db.ReadValue([](soci::session& s) { return ReadApplied(s); });
  for (const auto& m : migrations) {
    const auto it = applied.find(m.version);
    if (it != applied.end() && it->second != m.name) {
      throw MigrationError("the database applied migration " + std::to_string(m.version) + " as '" + it->second +
                           "' but this binary calls it '" + m.name + "': landed migrations must never change");
    }
  }
  if (!applied.empty() && applied.rbegin()->first > static_cast<int>(migrations.size())) {
    spdlog::warn("the database has migration {} which this binary does not know (written by a newer Poste?)",
                 applied.rbegin()->second);
  }

  std::vector<std::string> done;
  for (const auto& m : migrations) {
    if (applied.count(m.version) != 0) continue;
    bool ran = false;
    try {
      db.Write([&](soci::session& s) {
        LockMigrations(s, dialect);
        long long present = 0;
        s << "SELECT COUNT(*) FROM schema_migrations WHERE version = :version", soci::use(m.version),
            soci::into(present);
        if (present != 0) return;  // another process applied it after we read the list
        ExecScript(s, dialect, std::string(m.sql));
        const std::int64_t now = NowMs();
        s << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :now)",
            soci::use(m.version), soci::use(m.name), soci::use(now);
        ran = true;
      });
    } catch (const std::exception& error) {
      throw MigrationError("migration " + m.name + " failed: " + error.what());
    }
    if (ran) {
      spdlog::info("applied migration {}", m.name);
      done.push_back(m.name);
    }
  }
  if (!done.empty() && dialect == Dialect::kSqlite) {
    // The migrations went through every page of the new schema on the writer: its page cache (~0.4 MB on an
    // empty database) would stay allocated for pages it rarely reads again (idle RSS, bench/RESULTS.md).
    db.Write([&](soci::session& s) { ExecScript(s, dialect, "PRAGMA shrink_memory"); });
  }
  return done;
}

MigrationState State(Database& db) { return State(db, EmbeddedMigrations(db.dialect())); }

MigrationState State(Database& db, const std::vector<embedded::File>& files) {
  const std::vector<Migration> migrations = ParseMigrations(files);
  const Dialect dialect = db.dialect();
  const auto applied = db.ReadValue([&](soci::session& s) {
    return TableExists(s, dialect, "schema_migrations") ? ReadApplied(s) : std::map<int, std::string>{};
  });
  MigrationState state;
  state.applied = applied.size();
  for (const auto& m : migrations) {
    if (applied.count(m.version) == 0) state.pending_names.push_back(m.name);
  }
  state.pending = state.pending_names.size();
  return state;
}

}  // namespace poste::db
