#pragma once
// The in-process Limiter: token buckets in a bounded, sharded map. Right for one instance; several instances
// behind a load balancer each count on their own (the Redis-backed Limiter will share the count).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "lib/ratelimit/limiter.hpp"
#include "lib/ratelimit/sharded_lru.hpp"

namespace poste::ratelimit {

struct MemoryLimiterOptions {
  // The most buckets held at once. Beyond it the least recently used bucket is forgotten, which hands its key
  // a full bucket again: under a flood of new keys the limiter fails open for old keys rather than growing.
  std::size_t max_keys = 100'000;
  // How often each shard drops buckets that are full again (they are equivalent to no bucket at all).
  std::int64_t sweep_interval_ms = 10'000;
};

class MemoryLimiter final : public Limiter {
 public:
  explicit MemoryLimiter(MemoryLimiterOptions options = {});

  // The number of buckets held, for metrics and tests.
  std::size_t Size() const { return buckets_.Size(); }
  // Drops every bucket that is full again at now_ms; Take also does this lazily, shard by shard.
  void Sweep(std::int64_t now_ms) { buckets_.Sweep(now_ms); }

 private:
  struct Bucket {
    double tokens = 0;
    std::int64_t last_ms = 0;
    std::int64_t full_at_ms = 0;
    bool Expired(std::int64_t now_ms) const { return now_ms >= full_at_ms; }
  };

  Decision DoTake(std::string_view key, const Rule& rule, std::int64_t now_ms, double cost) override;

  detail::ShardedLru<Bucket> buckets_;
};

}  // namespace poste::ratelimit
