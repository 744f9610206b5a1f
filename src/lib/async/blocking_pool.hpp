#pragma once
// A fixed pool of threads for blocking work, kept apart from the I/O threads.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

namespace poste {

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t threads);
  ~BlockingPool();  // finishes queued work, then joins
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void Post(std::function<void()> work);
  void Join();  // waits for queued work and stops the threads
  // Waits until no task is queued or running (without stopping the pool); false on timeout.
  bool WaitIdle(std::chrono::milliseconds timeout);

  std::size_t Threads() const { return threads_; }
  // Tasks posted but not yet started (the queue depth metric).
  std::size_t Queued() const { return queued_.load(std::memory_order_relaxed); }
  std::size_t Running() const { return running_.load(std::memory_order_relaxed); }

  // The process's pool, installed by whoever owns it (the app, or a test's main).
  static BlockingPool& Current();
  // Returns the pool installed before, so a nested owner can restore it.
  static BlockingPool* Install(BlockingPool* pool);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::size_t threads_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<std::size_t> running_{0};
};

}  // namespace poste
