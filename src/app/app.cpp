#include "app/app.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <filesystem>
#include <thread>

#include "db/database.hpp"
#include "db/migrations.hpp"
#include "http/access_log.hpp"
#include "http/http_metrics.hpp"
#include "http/pipeline.hpp"
#include "http/server.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/worker_pool.hpp"
#include "lib/async/blocking_pool.hpp"
#include "lib/metrics/metrics.hpp"
#include "modules/system/system_routes.hpp"

namespace poste::app {

namespace {

std::size_t Cores() {
  auto n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

}  // namespace

// Declaration order is construction order: each part only uses parts declared above it.
struct App::Parts {
  explicit Parts(const Config& c) : config(c), blocking(c.server.blocking_threads) {
    previous_pool = BlockingPool::Install(&blocking);
    std::filesystem::create_directories(config.data.dir);
    database = db::Database::Open({ResolvedDatabaseUrl(config), config.database.pool_size});
    db::Migrate(*database);  // logs each migration it applies
    queue = std::make_unique<jobs::JobQueue>(*database);
    jobs::WorkerPoolOptions worker_options;
    worker_options.lease_ms = config.jobs.lease_ms;
    worker_options.poll_interval = std::chrono::milliseconds(config.jobs.poll_interval_ms);
    workers = std::make_unique<jobs::WorkerPool>(*queue, worker_options);
    RegisterMetrics();
    http_metrics = std::make_unique<http::HttpMetrics>(registry);
    system::RegisterRoutes(router, {*database, registry, [this] { RefreshJobCounts(); }});
    pipeline = std::make_unique<http::Pipeline>(
        router,
        http::PipelineOptions{config.server.body_limit_bytes, config.server.cors_origins, config.server.gzip,
                              config.server.access_log},
        http_metrics.get());
  }

  ~Parts() {
    registry.RemoveCallback("poste_blocking_pool_queue_depth");
    registry.RemoveCallback("poste_db_pool_connections");
    registry.RemoveCallback("poste_jobs");
    BlockingPool::Install(previous_pool);
  }

  void RegisterMetrics() {
    registry.AddGauge("poste_build_info", "Build information; the value is always 1.", {"version"})
        .With({POSTE_VERSION})
        .Set(1);
    registry.AddGaugeCallback("poste_blocking_pool_queue_depth", "Blocking tasks waiting for a thread.",
                              [this] { return static_cast<double>(blocking.Queued()); });
    registry.AddGaugeCallback("poste_db_pool_connections", "Database connections, by state.", {"state"}, [this] {
      auto stats = database->Stats();
      return metrics::LabelledValues{{{"in_use"}, static_cast<double>(stats.in_use)},
                                     {{"idle"}, static_cast<double>(stats.size - stats.in_use)}};
    });
    registry.AddGaugeCallback("poste_jobs", "Jobs in the durable queue, by state.", {"state"}, [this] {
      std::lock_guard lock(job_counts_mu);
      return job_counts;
    });
  }

  // Runs on the blocking pool before each scrape: the gauge callbacks themselves must not run SQL.
  void RefreshJobCounts() {
    metrics::LabelledValues values;
    for (const auto& [state, count] : queue->CountByState()) values.push_back({{state}, static_cast<double>(count)});
    std::lock_guard lock(job_counts_mu);
    job_counts = std::move(values);
  }

  Config config;
  BlockingPool* previous_pool = nullptr;  // restored on destruction (tests build several apps)
  BlockingPool blocking;
  metrics::Registry registry;
  std::unique_ptr<db::Database> database;
  std::unique_ptr<jobs::JobQueue> queue;
  std::unique_ptr<jobs::WorkerPool> workers;
  std::unique_ptr<http::HttpMetrics> http_metrics;
  web::Router router;
  std::unique_ptr<http::Pipeline> pipeline;
  std::mutex job_counts_mu;
  metrics::LabelledValues job_counts;
};

App::App(const Config& config) : parts_(std::make_unique<Parts>(config)) {}
App::~App() = default;

db::Database& App::database() { return *parts_->database; }
http::Pipeline& App::pipeline() { return *parts_->pipeline; }
const web::Router& App::router() const { return parts_->router; }

int App::Serve() {
  auto& p = *parts_;
  const auto& s = p.config.server;
  http::ServerOptions options;
  options.host = s.host;
  options.port = s.port;
  options.io_threads = s.io_threads == 0 ? Cores() : s.io_threads;
  options.header_limit = s.header_limit_bytes;
  options.header_timeout = std::chrono::milliseconds(s.header_timeout_ms);
  options.body_timeout = std::chrono::milliseconds(s.body_timeout_ms);
  options.keepalive_timeout = std::chrono::milliseconds(s.keepalive_timeout_ms);
  options.drain_timeout = std::chrono::milliseconds(s.drain_timeout_ms);
  auto server = std::make_unique<http::Server>(options, *p.pipeline);
  server->Listen();
  if (s.access_log) http::AccessLog::Start(STDOUT_FILENO);
  // Modules register their job kinds while the app is built; with none (or jobs.workers = 0) there is
  // nothing for this instance to run.
  bool run_jobs = p.config.jobs.workers > 0 && p.workers->HasHandlers();
  if (run_jobs) p.workers->Start(p.config.jobs.workers);
  spdlog::info("Poste is serving on http://{}:{} (data: {})", s.host, server->Port(), p.config.data.dir);
  bool clean = server->Run();
  // Blocking tasks hold executors of the server's io_context: it must outlive them. A task stuck past the
  // drain deadline keeps the io_context alive forever (leaked) rather than touching freed memory.
  if (!p.blocking.WaitIdle(options.drain_timeout)) {
    spdlog::error("blocking work still running after the drain deadline; leaving it behind");
    (void)server.release();
    clean = false;
  }
  server.reset();
  spdlog::info("stopped accepting; stopping job workers");
  if (run_jobs) p.workers->Stop();
  http::AccessLog::Stop();
  spdlog::info("shut down {}", clean ? "cleanly" : "after the drain deadline");
  return 0;
}

}  // namespace poste::app
