#include "lib/ratelimit/memory_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace poste::ratelimit {

namespace {

// Refill arithmetic is in doubles, so a bucket due to hold exactly 1 token may hold 0.9999999999. Comparisons
// and round-ups forgive that much (relative to the sizes involved), so that "retry after N ms" is true.
constexpr double kSlack = 1e-9;
// About 285,000 years: a bound that keeps every result an exact, overflow-free integer.
constexpr double kMaxMs = 9e15;

// Milliseconds to regain `tokens` at `rate` per second, rounded up.
std::int64_t MsToRegain(double tokens, double rate) {
  double ms = tokens / rate * 1000.0;
  if (!(ms > 0)) return 0;
  ms = std::ceil(ms - kSlack * std::max(1.0, ms));
  return static_cast<std::int64_t>(std::min(ms, kMaxMs));
}

void CheckArguments(const Rule& rule, double cost) {
  if (!std::isfinite(rule.capacity) || rule.capacity <= 0) {
    throw std::invalid_argument("rate limit rule: capacity must be positive and finite");
  }
  if (!std::isfinite(rule.refill_per_second) || rule.refill_per_second <= 0) {
    throw std::invalid_argument("rate limit rule: refill_per_second must be positive and finite");
  }
  if (!std::isfinite(cost) || cost < 0 || cost > rule.capacity) {
    throw std::invalid_argument("rate limit: cost must be between 0 and the rule's capacity");
  }
}

}  // namespace

MemoryLimiter::MemoryLimiter(MemoryLimiterOptions options) : buckets_(options.max_keys, options.sweep_interval_ms) {}

Decision MemoryLimiter::DoTake(std::string_view key, const Rule& rule, std::int64_t now_ms, double cost) {
  CheckArguments(rule, cost);
  return buckets_.Update(key, now_ms, [&](Bucket& b, bool created) {
    if (created) {
      b.tokens = rule.capacity;
      b.last_ms = now_ms;
    } else if (now_ms > b.last_ms) {
      b.tokens += static_cast<double>(now_ms - b.last_ms) * rule.refill_per_second / 1000.0;
      b.last_ms = now_ms;
    }  // a clock that went back refills nothing, and last_ms keeps the later time
    b.tokens = std::min(b.tokens, rule.capacity);  // also caps a bucket whose rule shrank

    Decision d;
    if (b.tokens + kSlack * std::max(1.0, rule.capacity) >= cost) {
      d.allowed = true;
      b.tokens = std::max(0.0, b.tokens - cost);
    } else {
      d.retry_after_ms = std::max<std::int64_t>(1, MsToRegain(cost - b.tokens, rule.refill_per_second));
    }
    d.remaining = b.tokens;
    d.reset_ms = MsToRegain(rule.capacity - b.tokens, rule.refill_per_second);
    b.full_at_ms = b.last_ms + d.reset_ms;
    return d;
  });
}

}  // namespace poste::ratelimit
