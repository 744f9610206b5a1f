#include "lib/async/blocking.hpp"

#include <gtest/gtest.h>

#include <utility>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <stdexcept>
#include <thread>

#include "support/run_task.hpp"

namespace poste {
namespace {

TEST(Blocking, ReturnsValueFromAnotherThread) {
  auto caller = std::this_thread::get_id();
  auto [value, worker] = testing::RunTask([]() -> boost::asio::awaitable<std::pair<int, std::thread::id>> {
    co_return co_await blocking([] { return std::make_pair(42, std::this_thread::get_id()); });
  }());
  EXPECT_EQ(value, 42);
  EXPECT_NE(worker, caller);
}

TEST(Blocking, PropagatesExceptionsAndSupportsVoid) {
  int ran = 0;
  auto outcome = testing::RunTask([&]() -> boost::asio::awaitable<std::string> {
    co_await blocking([&] { ++ran; });
    try {
      co_await blocking([]() -> int { throw std::runtime_error("boom"); });
    } catch (const std::runtime_error& e) {
      co_return std::string(e.what());
    }
    co_return std::string("no exception");
  }());
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(outcome, "boom");
}

TEST(Blocking, ResumesOnTheCallersStrand) {
  boost::asio::io_context ioc;
  auto strand = boost::asio::make_strand(ioc);
  bool on_strand_after = false;
  boost::asio::co_spawn(
      strand,
      [&]() -> boost::asio::awaitable<void> {
        co_await blocking([] { std::this_thread::sleep_for(std::chrono::milliseconds(5)); });
        on_strand_after = strand.running_in_this_thread();
      },
      boost::asio::detached);
  ioc.run();
  testing::WaitForBlockingWork();
  EXPECT_TRUE(on_strand_after);
}

TEST(Blocking, QueueDepthIsCounted) {
  BlockingPool pool(1);
  std::atomic<bool> release{false};
  pool.Post([&] {
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  pool.Post([] {});
  pool.Post([] {});
  // The first task occupies the only thread; the other two wait.
  for (int i = 0; i < 1000 && pool.Running() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(pool.Queued(), 2u);
  release = true;
  pool.Join();
  EXPECT_EQ(pool.Queued(), 0u);
}

}  // namespace
}  // namespace poste
