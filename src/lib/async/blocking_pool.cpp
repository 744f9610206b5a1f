#include "lib/async/blocking_pool.hpp"

#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <stdexcept>
#include <thread>

namespace poste {

namespace {
std::atomic<BlockingPool*> g_current{nullptr};
}

struct BlockingPool::Impl {
  explicit Impl(std::size_t n) : pool(n) {}
  boost::asio::thread_pool pool;
  bool joined = false;
};

BlockingPool::BlockingPool(std::size_t threads)
    : impl_(std::make_unique<Impl>(threads == 0 ? 1 : threads)), threads_(threads == 0 ? 1 : threads) {}

BlockingPool::~BlockingPool() {
  Join();
  BlockingPool* self = this;
  g_current.compare_exchange_strong(self, nullptr);
}

void BlockingPool::Post(std::function<void()> work) {
  queued_.fetch_add(1, std::memory_order_relaxed);
  boost::asio::post(impl_->pool, [this, work = std::move(work)]() mutable {
    queued_.fetch_sub(1, std::memory_order_relaxed);
    running_.fetch_add(1, std::memory_order_relaxed);
    work();
    // Destroy what the task captured (executors of the caller's io_context) before it counts as done:
    // once WaitIdle() sees zero, nothing here may touch that io_context again.
    work = nullptr;
    running_.fetch_sub(1, std::memory_order_release);
  });
}

bool BlockingPool::WaitIdle(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (queued_.load(std::memory_order_acquire) != 0 || running_.load(std::memory_order_acquire) != 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

void BlockingPool::Join() {
  if (impl_->joined) return;
  impl_->joined = true;
  impl_->pool.join();
}

BlockingPool& BlockingPool::Current() {
  BlockingPool* pool = g_current.load(std::memory_order_acquire);
  if (!pool) throw std::logic_error("no BlockingPool installed");
  return *pool;
}

BlockingPool* BlockingPool::Install(BlockingPool* pool) { return g_current.exchange(pool, std::memory_order_acq_rel); }

}  // namespace poste
