#include "jobs/worker_pool.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <stdexcept>

namespace poste::jobs {
namespace {

std::string DefaultName() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  // The counter tells apart the pools of one process; the random part, a pid reused after a restart.
  static std::atomic<int> pools{0};
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%04x", static_cast<unsigned>(std::random_device{}() & 0xffff));
  return std::string(host[0] != '\0' ? host : "host") + ":" + std::to_string(::getpid()) + ":" +
         std::to_string(++pools) + "-" + suffix;
}

}  // namespace

WorkerPool::WorkerPool(JobQueue& queue, WorkerPoolOptions options) : queue_(queue), options_(std::move(options)) {
  if (options_.name.empty()) options_.name = DefaultName();
  // A zero interval would spin on the database.
  options_.poll_interval = std::max(options_.poll_interval, std::chrono::milliseconds(1));
  if (options_.heartbeat_interval.count() <= 0) {
    options_.heartbeat_interval = std::chrono::milliseconds(std::max<std::int64_t>(1, options_.lease_ms / 3));
  }
}

WorkerPool::~WorkerPool() { Stop(); }

bool WorkerPool::HasHandlers() const {
  std::lock_guard lock(mutex_);
  return !handlers_.empty();
}

void WorkerPool::Register(std::string kind, Handler handler) {
  std::lock_guard lock(mutex_);
  if (started_) throw std::logic_error("WorkerPool::Register after Start (kind '" + kind + "')");
  if (!handler) throw std::invalid_argument("WorkerPool::Register: empty handler for kind '" + kind + "'");
  if (handlers_.count(kind) == 0) kinds_.push_back(kind);
  handlers_[std::move(kind)] = std::move(handler);
}

void WorkerPool::Start(std::size_t threads) {
  {
    std::lock_guard lock(mutex_);
    if (started_) throw std::logic_error("WorkerPool::Start called twice");
    if (handlers_.empty()) throw std::logic_error("WorkerPool::Start with no job kind registered");
    started_ = true;
  }
  subscription_ = queue_.Subscribe([this] {
    {
      std::lock_guard lock(mutex_);
      ++generation_;
    }
    wake_.notify_all();
  });
  const std::size_t count = std::max<std::size_t>(1, threads);
  for (std::size_t i = 0; i < count; ++i) {
    threads_.emplace_back([this, id = options_.name + ":" + std::to_string(i)] { WorkLoop(id); });
  }
  threads_.emplace_back([this] { HeartbeatLoop(); });
  spdlog::info("job workers started: {} threads as {} for {} kinds", count, options_.name, kinds_.size());
}

void WorkerPool::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (!started_ || stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  queue_.Unsubscribe(subscription_);
  spdlog::info("job workers {} stopped", options_.name);
}

void WorkerPool::WaitForWork(std::uint64_t seen) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, options_.poll_interval, [&] { return stopping_ || generation_ != seen; });
}

void WorkerPool::WorkLoop(const std::string& worker_id) {
  while (true) {
    std::uint64_t seen = 0;
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      seen = generation_;
    }
    std::optional<Job> job;
    try {
      job = queue_.Claim(worker_id, options_.lease_ms, kinds_);
    } catch (const std::exception& error) {
      // The database is down or busy: keep polling; jobs are durable and wait.
      spdlog::error("job claim by {} failed: {}", worker_id, error.what());
    }
    if (!job) {
      WaitForWork(seen);
      continue;
    }
    Run(*job, worker_id);
  }
}

void WorkerPool::Run(const Job& job, const std::string& worker_id) {
  {
    std::lock_guard lock(mutex_);
    in_flight_[job.id] = worker_id;
  }
  ++busy_;
  std::string error;
  bool permanent = false;
  try {
    handlers_.at(job.kind)(job);  // Claim only returns registered kinds
  } catch (const PermanentError& e) {
    error = e.what();
    permanent = true;
  } catch (const std::exception& e) {
    error = e.what();
    if (error.empty()) error = "failed without a message";
  } catch (...) {
    error = "threw a non-standard exception";
  }
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(job.id);
  }
  --busy_;
  try {
    bool held = false;
    if (error.empty()) {
      held = queue_.Complete(job.id, worker_id);
      spdlog::debug("job {} ({}) done by {}", job.id, job.kind, worker_id);
    } else {
      held = queue_.Fail(job.id, worker_id, error, permanent);
      const bool last = permanent || job.attempts >= job.max_attempts;
      spdlog::log(last ? spdlog::level::err : spdlog::level::warn, "job {} ({}) attempt {}/{} failed{}: {}", job.id,
                  job.kind, job.attempts, job.max_attempts, last ? ", now dead" : ", will retry", error);
    }
    if (!held) {
      spdlog::warn("job {} ({}): {} lost its lease before finishing; another worker owns it", job.id, job.kind,
                   worker_id);
    }
  } catch (const std::exception& e) {
    // The outcome is not recorded; the lease expires and the job runs again (handlers are idempotent).
    spdlog::error("job {} ({}): recording the outcome failed: {}", job.id, job.kind, e.what());
  }
}

void WorkerPool::HeartbeatLoop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.heartbeat_interval, [&] { return stopping_; });
    if (stopping_) return;
    const auto jobs = in_flight_;
    lock.unlock();
    for (const auto& [id, worker_id] : jobs) {
      try {
        if (!queue_.ExtendLease(id, worker_id, options_.lease_ms)) {
          spdlog::warn("job {}: {} could not extend its lease (claimed by another worker?)", id, worker_id);
        }
      } catch (const std::exception& e) {
        spdlog::error("job {}: extending the lease failed: {}", id, e.what());
      }
    }
    lock.lock();
  }
}

}  // namespace poste::jobs
