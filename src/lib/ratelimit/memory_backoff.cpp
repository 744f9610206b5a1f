#include "lib/ratelimit/memory_backoff.hpp"

#include <algorithm>
#include <limits>

namespace poste::ratelimit {

MemoryBackoff::MemoryBackoff(MemoryBackoffOptions options)
    : policy_(options.policy), streaks_(options.max_keys, options.sweep_interval_ms) {}

std::int64_t MemoryBackoff::RecordFailure(std::string_view key, std::int64_t now_ms) {
  return streaks_.Update(key, now_ms, [&](Streak& s, bool created) -> std::int64_t {
    if (!created && s.Expired(now_ms)) s = Streak{};  // forgotten, though no sweep has dropped it yet
    if (now_ms < s.locked_until_ms) return s.locked_until_ms - now_ms;
    if (s.failures < std::numeric_limits<int>::max()) ++s.failures;
    std::int64_t lockout = LockoutAfter(policy_, s.failures);
    if (lockout > 0) s.locked_until_ms = now_ms + lockout;
    s.forget_at_ms = std::max(now_ms, s.locked_until_ms) + std::max<std::int64_t>(1, policy_.forget_after_ms);
    return lockout;
  });
}

void MemoryBackoff::RecordSuccess(std::string_view key) { streaks_.Erase(key); }

std::int64_t MemoryBackoff::LockedFor(std::string_view key, std::int64_t now_ms) {
  return streaks_.Read(key, [&](const Streak* s) -> std::int64_t {
    return s && now_ms < s->locked_until_ms ? s->locked_until_ms - now_ms : 0;
  });
}

}  // namespace poste::ratelimit
