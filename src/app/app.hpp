#pragma once
// The composition root: builds every part from the configuration, in dependency order, and owns them.
#include <cstddef>
#include <memory>

#include "app/config.hpp"

namespace poste::db {
class Database;
}
namespace poste::http {
class Pipeline;
}
namespace poste::web {
class Router;
}

namespace poste::app {

class App {
 public:
  // Opens (and creates) the data directory and the database, applies migrations, builds the router.
  // Throws with a message fit for the console on any failure.
  explicit App(const Config& config);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Listens, starts the job workers, serves until SIGINT/SIGTERM; returns the process exit code.
  int Serve();

  // Runs the job workers without serving (tests of a whole app with its jobs); stopped with the app.
  void StartJobWorkers(std::size_t threads);

  db::Database& database();
  http::Pipeline& pipeline();
  const web::Router& router() const;

 private:
  void EnsureFirstAdmin();

  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace poste::app
