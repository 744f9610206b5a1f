#pragma once
// A rate limiter behind an interface: the in-process MemoryLimiter today, a Redis-backed one shared by
// several instances later. Callers (the rate-limit middleware) hold a Limiter& and never the concrete type.
#include <chrono>
#include <cstdint>
#include <string_view>

namespace poste::ratelimit {

// A token bucket: it holds up to `capacity` tokens, starts full, and regains `refill_per_second` tokens a
// second. A request of cost c passes when c tokens are there, and takes them.
struct Rule {
  double capacity = 0;           // > 0, finite: the largest burst
  double refill_per_second = 0;  // > 0, finite: the sustained rate
};

struct Decision {
  bool allowed = false;
  double remaining = 0;             // tokens left after this request
  std::int64_t retry_after_ms = 0;  // when refused: the wait until this cost would pass; 0 when allowed
  std::int64_t reset_ms = 0;        // the wait until the bucket is full again
};

class Limiter {
 public:
  virtual ~Limiter() = default;

  // Takes `cost` tokens from the bucket of `key` under `rule` at time `now_ms` (a monotonic clock, in ms).
  // A key is the caller's namespace plus identity, e.g. "login:ip:203.0.113.7"; one key should always be used
  // with one rule. Throws std::invalid_argument for a rule outside its bounds, or a cost that is negative,
  // not finite, or above the capacity (such a request could never pass: a configuration error).
  // Non-virtual so that the default cost is declared once, whatever the implementation.
  Decision Take(std::string_view key, const Rule& rule, std::int64_t now_ms, double cost = 1) {
    return DoTake(key, rule, now_ms, cost);
  }

 protected:
  virtual Decision DoTake(std::string_view key, const Rule& rule, std::int64_t now_ms, double cost) = 0;
};

// The clock the limiters expect; tests pass their own times instead.
inline std::int64_t SteadyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace poste::ratelimit
