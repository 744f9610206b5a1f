#include "app/app.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "app/master_key.hpp"
#include "app/parts.hpp"
#include "db/migrations.hpp"
#include "http/access_log.hpp"
#include "http/server.hpp"
#include "lib/crypto/encoding.hpp"
namespace poste::app {

namespace {

std::size_t Cores() {
  auto n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

}  // namespace

App::Parts::Parts(const Config& c) : config(c), blocking(c.server.blocking_threads) {
  previous_pool = BlockingPool::Install(&blocking);
  std::filesystem::create_directories(config.data.dir);
  database = db::Database::Open({ResolvedDatabaseUrl(config), config.database.pool_size});
  db::Migrate(*database);  // logs each migration it applies
  queue = std::make_unique<jobs::JobQueue>(*database);
  jobs::WorkerPoolOptions worker_options;
  worker_options.lease_ms = config.jobs.lease_ms;
  worker_options.poll_interval = std::chrono::milliseconds(config.jobs.poll_interval_ms);
  workers = std::make_unique<jobs::WorkerPool>(*queue, worker_options);
  SetUpIdentity();
  SetUpContent();
  SetUpMedia();
  SetUpContacts();
  SetUpPublic();
  SetUpMailDkim();
  SetUpMail();
  SetUpMailTemplates();
  SetUpInbox();
  SetUpMailCampaigns();
  SetUpMailOAuth();
  SetUpMailBounces();
  SetUpMailMessages();
  RegisterMetrics();
  http_metrics = std::make_unique<http::HttpMetrics>(registry);
  system::RegisterRoutes(router, {*database, registry, [this] { RefreshJobCounts(); }});
  pipeline =
      std::make_unique<http::Pipeline>(router,
                                       http::PipelineOptions{config.server.body_limit_bytes, config.server.cors_origins,
                                                             config.server.gzip, config.server.access_log},
                                       http_metrics.get());
}

App::Parts::~Parts() {
  // Handlers use the services declared after the pool: no job may still run when those go.
  if (workers) workers->Stop();
  registry.RemoveCallback("poste_blocking_pool_queue_depth");
  registry.RemoveCallback("poste_db_pool_connections");
  registry.RemoveCallback("poste_jobs");
  registry.RemoveCallback("poste_public_cache_bytes");
  registry.RemoveCallback("poste_public_cache_entries");
  registry.RemoveCallback("poste_public_cache_lookups_total");
  registry.RemoveCallback("poste_public_cache_drops_total");
  BlockingPool::Install(previous_pool);
}

void App::Parts::RegisterMetrics() {
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
  // The public read API's ready-bytes cache: its size, how often it answers, why entries leave it.
  registry.AddGaugeCallback("poste_public_cache_bytes", "Bytes held by the public answers cache.",
                            [this] { return static_cast<double>(public_cache->GetStats().bytes); });
  registry.AddGaugeCallback("poste_public_cache_entries", "Answers held by the public answers cache.",
                            [this] { return static_cast<double>(public_cache->GetStats().entries); });
  registry.AddCounterCallback("poste_public_cache_lookups_total", "Public answers cache lookups, by result.",
                              {"result"}, [this] {
                                auto stats = public_cache->GetStats();
                                return metrics::LabelledValues{{{"hit"}, static_cast<double>(stats.hits)},
                                                               {{"miss"}, static_cast<double>(stats.misses)}};
                              });
  registry.AddCounterCallback(
      "poste_public_cache_drops_total",
      "Public answers not kept: evicted for room, or refused as stale (the site changed while they were built).",
      {"reason"}, [this] {
        auto stats = public_cache->GetStats();
        return metrics::LabelledValues{{{"evicted"}, static_cast<double>(stats.evictions)},
                                       {{"stale"}, static_cast<double>(stats.refused)}};
      });
}

void App::Parts::RefreshJobCounts() {
  metrics::LabelledValues values;
  for (const auto& [state, count] : queue->CountByState()) values.push_back({{state}, static_cast<double>(count)});
  std::lock_guard lock(job_counts_mu);
  job_counts = std::move(values);
}

App::App(const Config& config) : parts_(std::make_unique<Parts>(config)) {}
App::~App() = default;

db::Database& App::database() { return *parts_->database; }
http::Pipeline& App::pipeline() { return *parts_->pipeline; }
const web::Router& App::router() const { return parts_->router; }

// First run: with no user at all, create an administrator from POSTE_ADMIN_EMAIL / POSTE_ADMIN_PASSWORD,
// or with a random password printed once. Not in the constructor, so API tests start with no user.
void App::EnsureFirstAdmin() {
  auto env = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    return v && *v ? std::optional<std::string>(v) : std::nullopt;
  };
  auto first = parts_->users->EnsureFirstAdmin(env("POSTE_ADMIN_EMAIL"), env("POSTE_ADMIN_PASSWORD"));
  if (first.created && first.generated_password) {
    std::printf(
        "\nFirst run: created the administrator %s with the password\n\n    %s\n\n"
        "Sign in (POST /api/v1/auth/login) and change it; it is not shown again.\n\n",
        first.email.c_str(), first.generated_password->c_str());
    std::fflush(stdout);
  } else if (first.created) {
    spdlog::info("first run: created the administrator {} from POSTE_ADMIN_EMAIL", first.email);
  }
}

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
  EnsureFirstAdmin();
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

void App::StartJobWorkers(std::size_t threads) {
  if (threads > 0 && parts_->workers->HasHandlers()) parts_->workers->Start(threads);
}

}  // namespace poste::app
