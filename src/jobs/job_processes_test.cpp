// Two worker processes (tests/jobs_tool) on one database: every job runs exactly once.
#include <gtest/gtest.h>
#include <soci/soci.h>
#include <spawn.h>
#include <sys/wait.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "jobs/job_queue.hpp"
#include "support/db_fixture.hpp"

extern char** environ;

namespace poste::jobs {
namespace {

#ifndef POSTE_JOBS_TOOL
#error "POSTE_JOBS_TOOL (the path of tests/jobs_tool) must be defined by the build"
#endif

pid_t Spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, argv[0], nullptr, nullptr, argv.data(), environ);
  if (rc != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(rc));
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

class JobProcessesTest : public poste::testing::DbTest {};

TEST_P(JobProcessesTest, TwoProcessesRunEveryJobExactlyOnce) {
  constexpr int kJobs = 200;
  db().Write([](soci::session& s) {
    s << "CREATE TABLE job_runs (job_id BIGINT NOT NULL, worker TEXT NOT NULL)";
    s << "CREATE TABLE tool_ready (name TEXT NOT NULL)";
  });
  JobQueue queue(db());
  std::set<std::int64_t> ids;
  for (int i = 0; i < kJobs; ++i) ids.insert(queue.Enqueue("tool.record", "{}"));

  const pid_t a = Spawn({POSTE_JOBS_TOOL, db_url(), "proc-a", "2"});
  const pid_t b = Spawn({POSTE_JOBS_TOOL, db_url(), "proc-b", "2"});
  EXPECT_EQ(Wait(a), 0) << "proc-a (exit 1: error on its stderr, 2: timed out)";
  EXPECT_EQ(Wait(b), 0) << "proc-b";

  std::map<std::int64_t, int> runs;
  std::map<std::string, int> per_worker;
  db().Read([&](soci::session& s) {
    long long id = 0;
    std::string worker;
    soci::statement st = (s.prepare << "SELECT job_id, worker FROM job_runs", soci::into(id), soci::into(worker));
    st.execute();
    while (st.fetch()) {
      ++runs[id];
      ++per_worker[worker];
    }
  });
  EXPECT_EQ(runs.size(), ids.size());
  for (const auto id : ids) EXPECT_EQ(runs[id], 1) << "job " << id;
  EXPECT_EQ(queue.CountByState()["done"], kJobs);
  // Both really took part (they start together through tool_ready), so the claims did compete.
  EXPECT_GT(per_worker["proc-a"], 0);
  EXPECT_GT(per_worker["proc-b"], 0);
}

POSTE_INSTANTIATE_DB_TEST(JobProcessesTest);

}  // namespace
}  // namespace poste::jobs
