#pragma once
// Parsing of `database.url`: which dialect, and what to hand to the driver.
#include <string>
#include <string_view>

#include "db/dialect.hpp"

namespace poste::db {

struct DatabaseTarget {
  Dialect dialect = Dialect::kSqlite;
  // SQLite: the file path ("sqlite://" stripped). PostgreSQL: the libpq URI, with connect_timeout and
  // application_name added when the URL does not set them.
  std::string location;
};

// "postgresql://..." and "postgres://..." select PostgreSQL; anything else is a SQLite file path.
// Throws AppError::Unavailable for an empty URL or an in-memory SQLite database (each pooled connection
// would see a different empty database).
DatabaseTarget ParseDatabaseUrl(std::string_view url);

// The URL with its password replaced by "***", for logs and error details.
std::string RedactUrl(std::string_view url);

}  // namespace poste::db
