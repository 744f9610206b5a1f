#pragma once
// Health, readiness, metrics and the OpenAPI document.
#include <functional>

#include "lib/web/router.hpp"

namespace poste::db {
class Database;
}
namespace poste::metrics {
class Registry;
}

namespace poste::system {

struct SystemDeps {
  db::Database& database;
  metrics::Registry& metrics;
  // Runs on the blocking pool before each /metrics render, to refresh gauges that need SQL.
  std::function<void()> before_scrape;
};

void RegisterRoutes(web::Router& router, SystemDeps deps);

}  // namespace poste::system
