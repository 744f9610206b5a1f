#pragma once
// Runs a coroutine to completion on a private io_context and returns its result (or rethrows).
#include <utility>  // before Asio: Boost 1.74 + g++ 12 coroutines need std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>

#include "lib/async/blocking_pool.hpp"

namespace poste::testing {

inline void WaitForBlockingWork() {
  try {
    BlockingPool::Current().WaitIdle(std::chrono::seconds(30));
  } catch (const std::logic_error&) {
    // No pool installed: nothing can be running.
  }
}

template <class T>
T RunTask(boost::asio::awaitable<T> task) {
  boost::asio::io_context ioc;
  std::optional<T> result;
  std::exception_ptr error;
  boost::asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result.emplace(std::move(value));
  });
  ioc.run();
  // A blocking task may still be releasing its executor of ioc after handing back its result: let it
  // finish before ioc is destroyed.
  WaitForBlockingWork();
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

}  // namespace poste::testing
