#include "lib/ratelimit/headers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace poste::ratelimit {

namespace {

// Header values are whole numbers; a fractional capacity or token count shows its floor, never more than
// the client really has (give or take the limiter's rounding slack, so 0.9999999999 tokens shows as 1).
std::string Whole(double value) {
  if (!(value > 0)) return "0";
  return std::to_string(static_cast<std::int64_t>(std::floor(std::min(value, 9e15) + 1e-6)));
}

std::int64_t SecondsUp(std::int64_t ms) { return ms <= 0 ? 0 : ms / 1000 + (ms % 1000 != 0 ? 1 : 0); }

}  // namespace

HeaderList RateLimitHeaders(const Rule& rule, const Decision& decision) {
  HeaderList headers;
  headers.reserve(4);
  headers.emplace_back("RateLimit-Limit", Whole(rule.capacity));
  headers.emplace_back("RateLimit-Remaining", Whole(decision.remaining));
  headers.emplace_back("RateLimit-Reset", std::to_string(SecondsUp(decision.reset_ms)));
  if (!decision.allowed) {
    headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(1, SecondsUp(decision.retry_after_ms))));
  }
  return headers;
}

}  // namespace poste::ratelimit
