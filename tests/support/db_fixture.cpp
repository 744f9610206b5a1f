#include "support/db_fixture.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "db/database_url.hpp"
#include "db/migrations.hpp"

namespace poste::testing {
namespace {

constexpr const char* kNoPostgres =
    "POSTE_TEST_PG_URL is not set, so the PostgreSQL variant of this test cannot run (it fails rather than "
    "skips). Start the test servers and export their settings, then run the tests again:\n"
    "  scripts/test-services start\n"
    "  eval \"$(scripts/test-services env)\"";

std::atomic<int> g_counter{0};

// Unique per process and per call; only [a-z0-9_], so it needs no quoting as an SQL identifier.
std::string NextName(const std::string& prefix) {
  return prefix + std::to_string(::getpid()) + "_" + std::to_string(++g_counter);
}

std::string AdminUrl() {
  const char* url = std::getenv("POSTE_TEST_PG_URL");
  if (url == nullptr || *url == '\0') throw std::runtime_error(kNoPostgres);
  return url;
}

// The admin URL with its database replaced by `name` (query parameters kept).
std::string UrlFor(const std::string& admin, const std::string& name) {
  const auto authority = admin.find("://");
  const auto start = authority == std::string::npos ? 0 : authority + 3;
  const auto path = admin.find_first_of("/?", start);
  const auto query = admin.find('?', start);
  std::string url = admin.substr(0, path);
  url += "/" + name;
  if (query != std::string::npos) url += admin.substr(query);
  return url;
}

// An admin session on POSTE_TEST_PG_URL. CREATE / DROP DATABASE cannot run in a transaction, so this is
// plain libpq rather than a db::Database.
class Admin {
 public:
  Admin() : url_(AdminUrl()), conn_(PQconnectdb(url_.c_str())) {
    if (PQstatus(conn_) != CONNECTION_OK) {
      const std::string reason = PQerrorMessage(conn_);
      PQfinish(conn_);
      throw std::runtime_error("cannot connect to POSTE_TEST_PG_URL (" + db::RedactUrl(url_) + "): " + reason +
                               "Is the server running? `scripts/test-services start`");
    }
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
  }
  ~Admin() { PQfinish(conn_); }  // also releases advisory locks
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Runs sql; returns whether it produced at least one row.
  bool Exec(const std::string& sql) {
    PGresult* result = PQexec(conn_, sql.c_str());
    const ExecStatusType status = PQresultStatus(result);
    const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    const bool rows = status == PGRES_TUPLES_OK && PQntuples(result) > 0;
    const std::string reason = ok ? "" : PQresultErrorMessage(result);
    PQclear(result);
    if (!ok) throw std::runtime_error(sql + ": " + reason);
    return rows;
  }
  const std::string& url() const { return url_; }

 private:
  std::string url_;
  PGconn* conn_;
};

void DropPg(const std::string& name) { Admin().Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); }

// FNV-1a of the PostgreSQL migrations: a template is reused only while the migrations are unchanged.
std::string MigrationsHash() {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const auto& file : db::EmbeddedMigrations(db::Dialect::kPostgres)) {
    for (std::string_view part : {file.path, std::string_view("\0", 1), file.bytes}) {
      for (const char c : part) hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    }
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

// A migrated database that each test's database is cloned from (CREATE DATABASE ... TEMPLATE), so that the
// migrations run once per server rather than once per test: ctest runs every test in its own process. It is
// left on the (throw-away) test server for the next processes; an advisory lock keeps concurrent test
// processes from building it twice, and building under another name then renaming means a crash half-way
// never leaves a half-migrated template behind.
std::string TemplateName() {
  static const std::string name = [] {  // a failed build is retried by the next caller
    const std::string final_name = "poste_tpl_" + MigrationsHash();
    Admin admin;
    admin.Exec("SELECT pg_advisory_lock(7368200771002)");
    if (!admin.Exec("SELECT 1 FROM pg_database WHERE datname = '" + final_name + "'")) {
      const std::string building = NextName(final_name + "_");
      admin.Exec("DROP DATABASE IF EXISTS " + building + " WITH (FORCE)");
      admin.Exec("CREATE DATABASE " + building);
      db::Migrate(*db::Database::Open({UrlFor(admin.url(), building), 1}));
      admin.Exec("ALTER DATABASE " + building + " RENAME TO " + final_name);
    }
    return final_name;
  }();
  return name;
}

}  // namespace

TempDatabase::TempDatabase(db::Dialect dialect, bool migrate, std::size_t pool_size) : dialect_(dialect) {
  if (dialect == db::Dialect::kSqlite) {
    const auto dir = std::filesystem::temp_directory_path() / NextName("poste_t_");
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    name_ = dir.string();
    url_ = (dir / "poste.db").string();
  } else {
    const std::string source = migrate ? " TEMPLATE " + TemplateName() : std::string();
    Admin admin;
    const std::string name = NextName("poste_t_");
    admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    admin.Exec("CREATE DATABASE " + name + source);
    name_ = name;
    url_ = UrlFor(admin.url(), name_);
  }
  try {
    db_ = db::Database::Open({url_, pool_size});
    if (migrate && dialect == db::Dialect::kSqlite) db::Migrate(*db_);  // PostgreSQL cloned a migrated template
  } catch (...) {
    Delete();
    throw;
  }
}

void TempDatabase::Delete() noexcept {
  db_.reset();  // close every connection before deleting the data under them
  try {
    if (name_.empty()) return;
    if (dialect_ == db::Dialect::kSqlite) {
      std::filesystem::remove_all(name_);
    } else {
      DropPg(name_);
    }
  } catch (const std::exception& error) {
    ADD_FAILURE() << "could not delete the test database " << name_ << ": " << error.what();
  }
}

TempDatabase::~TempDatabase() { Delete(); }

void DbTest::SetUp() {
  try {
    temp_ = std::make_unique<TempDatabase>(GetParam());
  } catch (const std::exception& error) {
    FAIL() << "no " << db::DialectName(GetParam()) << " test database: " << error.what();
  }
}

void DbTest::TearDown() { temp_.reset(); }

std::string DbTestName(const ::testing::TestParamInfo<db::Dialect>& info) {
  return std::string(db::DialectName(info.param));
}

}  // namespace poste::testing
