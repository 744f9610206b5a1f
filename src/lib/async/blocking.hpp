#pragma once
// The one bridge from a coroutine to blocking work (SQL, files, outbound calls):
//   auto rows = co_await blocking([&] { return store.List(site); });
// The function runs on a thread of the blocking pool (BlockingPool::Current()). Its result or exception is
// then posted to the executor the coroutine was running on (its associated executor: in the server, the
// io_context of the connection's I/O thread, one thread per context, so no strand is involved; a strand
// only if the coroutine was spawned on one), never resumed inline on the pool thread. A work guard keeps
// that executor's context from running out of work meanwhile. The coroutine stays suspended until then,
// so what the function captures by reference must live in the coroutine's frame (or longer).
#include <utility>  // before Asio: Boost 1.74 + g++ 12 coroutines need std::exchange

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>

#include "lib/async/blocking_pool.hpp"

namespace poste {

namespace detail {
// void results travel as this placeholder.
struct Unit {};
template <class R>
using Carried = std::conditional_t<std::is_void_v<R>, Unit, R>;
}  // namespace detail

template <class F>
auto blocking(F fn) -> boost::asio::awaitable<std::invoke_result_t<F>> {
  using R = std::invoke_result_t<F>;
  using C = detail::Carried<R>;
  auto initiate = [fn = std::move(fn)](auto handler) mutable {
    auto work = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
    auto task = [fn = std::move(fn), handler = std::move(handler), work = std::move(work)]() mutable {
      std::exception_ptr error;
      std::optional<C> result;
      try {
        if constexpr (std::is_void_v<R>) {
          fn();
          result.emplace();
        } else {
          result.emplace(fn());
        }
      } catch (...) {
        error = std::current_exception();
      }
      auto ex = work.get_executor();
      boost::asio::post(ex, [handler = std::move(handler), error, result = std::move(result)]() mutable {
        handler(error, std::move(result));
      });
    };
    // The coroutine's handler is move-only and std::function wants a copyable target: share it instead.
    auto shared = std::make_shared<decltype(task)>(std::move(task));
    BlockingPool::Current().Post([shared] { (*shared)(); });
  };
  std::optional<C> result = co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                                 void(std::exception_ptr, std::optional<C>)>(
      std::move(initiate), boost::asio::use_awaitable);
  if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

}  // namespace poste
