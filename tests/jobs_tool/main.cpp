// poste_jobs_tool URL NAME PEERS: runs "tool.record" jobs from the database at URL until none is queued or
// running. Each run inserts (job id, NAME) into job_runs, so the test can count how often each job ran.
// It first checks in to tool_ready and waits until PEERS tools have, so that all of them really compete.
// Exit status: 0 done, 1 error, 2 timed out.
#include <soci/soci.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <thread>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/worker_pool.hpp"

namespace {

using namespace std::chrono_literals;
using poste::db::Database;

long long Count(Database& db, const std::string& sql) {
  return db.ReadValue([&](soci::session& s) {
    long long n = 0;
    s << sql, soci::into(n);
    return n;
  });
}

int Run(const std::string& url, const std::string& name, long long peers) {
  auto db = Database::Open({url, 2});
  db->Write([&](soci::session& s) { s << "INSERT INTO tool_ready (name) VALUES (:name)", soci::use(name); });
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (Count(*db, "SELECT COUNT(*) FROM tool_ready") < peers) {
    if (std::chrono::steady_clock::now() > deadline) return 2;
    std::this_thread::sleep_for(5ms);
  }

  poste::jobs::JobQueue queue(*db);
  poste::jobs::WorkerPool pool(queue, {name, 60'000, 20ms});
  pool.Register("tool.record", [&](const poste::jobs::Job& job) {
    const long long id = job.id;
    db->Write([&](soci::session& s) {
      s << "INSERT INTO job_runs (job_id, worker) VALUES (:id, :worker)", soci::use(id), soci::use(name);
    });
    std::this_thread::sleep_for(2ms);  // long enough for the other process to try the same rows
  });
  pool.Start(2);
  while (Count(*db, "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'running')") > 0) {
    if (std::chrono::steady_clock::now() > deadline) return 2;
    std::this_thread::sleep_for(20ms);
  }
  pool.Stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DATABASE_URL WORKER_NAME PEERS\n", argv[0]);
    return 1;
  }
  try {
    return Run(argv[1], argv[2], std::stoll(argv[3]));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "poste_jobs_tool %s: %s\n", argv[2], error.what());
    return 1;
  }
}
