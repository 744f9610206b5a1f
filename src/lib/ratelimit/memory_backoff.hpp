#pragma once
// The in-process FailureTracker: per-key streaks in a bounded, sharded map.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/ratelimit/backoff.hpp"
#include "lib/ratelimit/sharded_lru.hpp"

namespace poste::ratelimit {

struct MemoryBackoffOptions {
  BackoffPolicy policy;
  // The most keys tracked at once; beyond it the least recently failed key is forgotten (which may lift its
  // lockout: under a flood of new keys the tracker fails open for old keys rather than growing).
  std::size_t max_keys = 100'000;
  // How often each shard drops keys whose streak is forgotten.
  std::int64_t sweep_interval_ms = 60'000;
};

class MemoryBackoff final : public FailureTracker {
 public:
  explicit MemoryBackoff(MemoryBackoffOptions options = {});

  std::int64_t RecordFailure(std::string_view key, std::int64_t now_ms) override;
  void RecordSuccess(std::string_view key) override;
  std::int64_t LockedFor(std::string_view key, std::int64_t now_ms) override;

  // The number of keys tracked, for metrics and tests.
  std::size_t Size() const { return streaks_.Size(); }
  void Sweep(std::int64_t now_ms) { streaks_.Sweep(now_ms); }

 private:
  struct Streak {
    int failures = 0;
    std::int64_t locked_until_ms = 0;
    std::int64_t forget_at_ms = 0;
    bool Expired(std::int64_t now_ms) const { return now_ms >= forget_at_ms; }
  };

  BackoffPolicy policy_;
  detail::ShardedLru<Streak> streaks_;
};

}  // namespace poste::ratelimit
