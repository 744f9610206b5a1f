#pragma once
// Threads that claim jobs from the queue and run the handler registered for their kind. A handler that
// returns completes the job; one that throws PermanentError kills it; any other exception retries it later.
// While a handler runs, its lease is extended in the background, so a long job is not claimed twice; if
// the process dies, the lease expires and another worker runs the job again.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "jobs/job.hpp"
#include "jobs/job_queue.hpp"

namespace poste::jobs {

struct WorkerPoolOptions {
  std::string name;                                 // worker id prefix; default "<host>:<pid>:<random>"
  std::int64_t lease_ms = 300'000;                  // how long a claim lasts without a heartbeat
  std::chrono::milliseconds poll_interval{1000};    // how often idle workers look for due jobs
  std::chrono::milliseconds heartbeat_interval{0};  // lease extension period; 0 = lease_ms / 3
};

class WorkerPool {
 public:
  using Handler = std::function<void(const Job&)>;

  explicit WorkerPool(JobQueue& queue, WorkerPoolOptions options = {});
  ~WorkerPool();  // Stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Before Start. Workers claim only the kinds registered here, so a job whose module is absent from this
  // instance waits for an instance that has it instead of failing.
  void Register(std::string kind, Handler handler);
  // Throws std::logic_error when already started or when nothing is registered.
  void Start(std::size_t threads);
  // Lets running handlers finish, then joins every thread. Idempotent.
  void Stop();

  std::size_t Busy() const { return busy_.load(); }  // handlers running now
  bool HasHandlers() const;
  const std::string& name() const { return options_.name; }

 private:
  void WorkLoop(const std::string& worker_id);
  void Run(const Job& job, const std::string& worker_id);
  void HeartbeatLoop();
  // Waits until an enqueue after `seen`, Stop, or the poll interval.
  void WaitForWork(std::uint64_t seen);

  JobQueue& queue_;
  WorkerPoolOptions options_;
  std::map<std::string, Handler> handlers_;
  std::vector<std::string> kinds_;
  std::vector<std::thread> threads_;
  int subscription_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool started_ = false;
  bool stopping_ = false;
  std::uint64_t generation_ = 0;                   // bumped by every in-process enqueue
  std::map<std::int64_t, std::string> in_flight_;  // job id -> worker id, for the heartbeat
  std::atomic<std::size_t> busy_{0};
};

}  // namespace poste::jobs
