#include "db/database_url.hpp"

#include <gtest/gtest.h>

#include "lib/error.hpp"

namespace poste::db {
namespace {

TEST(DatabaseUrlTest, PostgresSchemesSelectPostgresAndGetATimeout) {
  for (const char* url : {"postgresql://u:p@h:5432/db", "postgres://u@h/db"}) {
    const auto target = ParseDatabaseUrl(url);
    EXPECT_EQ(target.dialect, Dialect::kPostgres) << url;
    EXPECT_EQ(target.location, std::string(url) + "?connect_timeout=10&application_name=poste");
  }
}

TEST(DatabaseUrlTest, KeepsParametersTheUrlSets) {
  const auto target = ParseDatabaseUrl("postgresql://h/db?sslmode=disable&connect_timeout=3");
  EXPECT_EQ(target.location, "postgresql://h/db?sslmode=disable&connect_timeout=3&application_name=poste");
}

TEST(DatabaseUrlTest, AnythingElseIsASqlitePath) {
  EXPECT_EQ(ParseDatabaseUrl("data/poste.db").location, "data/poste.db");
  EXPECT_EQ(ParseDatabaseUrl("sqlite:///var/lib/poste.db").location, "/var/lib/poste.db");
  EXPECT_EQ(ParseDatabaseUrl("sqlite://rel.db").dialect, Dialect::kSqlite);
  EXPECT_EQ(ParseDatabaseUrl("my dir/poste.db").location, "my dir/poste.db");
}

TEST(DatabaseUrlTest, RejectsEmptyAndInMemoryUrlsClearly) {
  for (const char* url : {"", "sqlite://", ":memory:", "file::memory:?cache=shared", "a\"b.db"}) {
    try {
      ParseDatabaseUrl(url);
      ADD_FAILURE() << "accepted '" << url << "'";
    } catch (const AppError& error) {
      EXPECT_EQ(error.code(), ErrorCode::kUnavailable);
      EXPECT_NE(error.detail().find("database.url"), std::string::npos) << error.detail();
    }
  }
}

TEST(DatabaseUrlTest, RedactsPasswords) {
  EXPECT_EQ(RedactUrl("postgresql://alice:s3cret@db.example:5432/poste"),
            "postgresql://alice:***@db.example:5432/poste");
  EXPECT_EQ(RedactUrl("postgresql://alice@db/poste?password=s3cret&sslmode=require"),
            "postgresql://alice@db/poste?password=***&sslmode=require");
  EXPECT_EQ(RedactUrl("postgresql://a:b@h/d?x=1&password=p"), "postgresql://a:***@h/d?x=1&password=***");
  EXPECT_EQ(RedactUrl("postgresql://alice@db/poste"), "postgresql://alice@db/poste");
  EXPECT_EQ(RedactUrl("data/poste.db"), "data/poste.db");
}

}  // namespace
}  // namespace poste::db
