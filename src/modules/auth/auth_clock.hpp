#pragma once
// The clocks the auth services read, injectable so that tests control time: wall time (epoch ms) for
// tokens and stored times, a monotonic clock (ms) for lockouts.
#include <chrono>
#include <cstdint>
#include <functional>

namespace poste::auth {

using Clock = std::function<std::int64_t()>;

inline std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace poste::auth
