#include "lib/ratelimit/backoff.hpp"

#include <algorithm>
#include <limits>

namespace poste::ratelimit {

std::int64_t LockoutAfter(const BackoffPolicy& policy, int failures) {
  if (failures < policy.free_failures || policy.first_lockout_ms <= 0) return 0;
  std::int64_t lockout = policy.first_lockout_ms;
  // Doubling stops at the cap, so it cannot overflow whatever the failure count.
  constexpr std::int64_t kNoOverflow = std::numeric_limits<std::int64_t>::max() / 2;
  for (int extra = failures - policy.free_failures; extra > 0 && lockout < policy.max_lockout_ms; --extra) {
    if (lockout > kNoOverflow) return policy.max_lockout_ms;
    lockout *= 2;
  }
  return std::min(lockout, std::max(policy.max_lockout_ms, policy.first_lockout_ms));
}

}  // namespace poste::ratelimit
