#pragma once
// The bounded, thread-safe key -> state store that the in-memory limiter and failure tracker share.
//
// Keys are spread over 16 shards, each with its own mutex, map and least-recently-used order, so threads
// touching different keys rarely wait on each other. Memory stays bounded whatever keys callers pass:
//  - each state says when it is worth nothing (a bucket full again, a failure streak forgotten) through
//    `bool Expired(std::int64_t now_ms) const`; such entries are dropped right after an update, and by a sweep
//    of the shard at most once per sweep interval;
//  - a shard that reaches its share of max_keys drops its least recently used entry to make room. That entry
//    may still hold state (fail open for that key): the price of not growing under a flood of random keys;
//  - keys longer than kMaxRawKey bytes are stored as a 32-byte digest.
// Keys are hashed with SipHash under a random per-store key, so chosen keys cannot pile into one hash bucket.
#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

namespace poste::ratelimit::detail {

inline constexpr std::size_t kMaxRawKey = 64;
inline constexpr std::size_t kDigestKeySize = 33;  // a 0x00 marker, then a BLAKE2b-256 digest

// The key as stored: `key` itself when short, else a digest written into `scratch`. A stored raw key never
// starts with 0x00 (such keys are digested too), so a raw key cannot pose as another key's digest.
std::string_view StoredKey(std::string_view key, std::array<char, kDigestKeySize>& scratch);

// SipHash-2-4 under a random 128-bit key drawn at construction (so each shard's map draws its own).
class KeyHasher {
 public:
  KeyHasher();
  std::size_t operator()(std::string_view key) const;

 private:
  std::array<unsigned char, 16> key_{};
};

template <class V>
class ShardedLru {
 public:
  static constexpr std::size_t kShards = 16;

  // Holds at most max(max_keys, kShards) entries.
  ShardedLru(std::size_t max_keys, std::int64_t sweep_interval_ms)
      : per_shard_(max_keys / kShards > 0 ? max_keys / kShards : 1), sweep_interval_ms_(sweep_interval_ms) {}
  ShardedLru(const ShardedLru&) = delete;
  ShardedLru& operator=(const ShardedLru&) = delete;

  // Runs f(V& state, bool created) under the key's shard lock, creating a value-initialised V when the key is
  // absent, and returns what f returns (by value: the state may be dropped afterwards, if it is then expired).
  // f must not throw: validate arguments before.
  template <class F>
  auto Update(std::string_view key, std::int64_t now_ms, F&& f) {
    std::array<char, kDigestKeySize> scratch;
    std::string_view stored = StoredKey(key, scratch);
    Shard& shard = ShardOf(stored);
    std::lock_guard lock(shard.mutex);
    MaybeSweep(shard, now_ms);
    bool created = false;
    auto found = shard.index.find(stored);
    if (found == shard.index.end()) {
      if (shard.index.size() >= per_shard_) DropOldest(shard);
      shard.order.emplace_front(std::string(stored));
      shard.index.emplace(shard.order.front().key, shard.order.begin());
      created = true;
    } else if (found->second != shard.order.begin()) {
      shard.order.splice(shard.order.begin(), shard.order, found->second);
    }
    Node& node = shard.order.front();
    using Result = std::invoke_result_t<F&, V&, bool>;
    if constexpr (std::is_void_v<Result>) {
      f(node.value, created);
      DropIfExpired(shard, now_ms);
    } else {
      Result result = f(node.value, created);
      DropIfExpired(shard, now_ms);
      return result;
    }
  }

  // Runs f(const V* state) under the key's shard lock; the pointer is null when the key is absent. Does not
  // count as a use for the LRU order.
  template <class F>
  auto Read(std::string_view key, F&& f) const {
    std::array<char, kDigestKeySize> scratch;
    std::string_view stored = StoredKey(key, scratch);
    const Shard& shard = ShardOf(stored);
    std::lock_guard lock(shard.mutex);
    auto found = shard.index.find(stored);
    return f(found == shard.index.end() ? nullptr : &std::as_const(found->second->value));
  }

  bool Erase(std::string_view key) {
    std::array<char, kDigestKeySize> scratch;
    std::string_view stored = StoredKey(key, scratch);
    Shard& shard = ShardOf(stored);
    std::lock_guard lock(shard.mutex);
    auto found = shard.index.find(stored);
    if (found == shard.index.end()) return false;
    Drop(shard, found->second);
    return true;
  }

  // Drops every expired entry now, in every shard.
  void Sweep(std::int64_t now_ms) {
    for (auto& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      SweepShard(shard, now_ms);
    }
  }

  std::size_t Size() const {
    std::size_t total = 0;
    for (const auto& shard : shards_) {
      std::lock_guard lock(shard.mutex);
      total += shard.index.size();
    }
    return total;
  }

 private:
  struct Node {
    explicit Node(std::string k) : key(std::move(k)) {}
    std::string key;  // the index's string_view keys point here; list nodes never move
    V value{};
  };
  using Order = std::list<Node>;  // most recently used first
  using Index = std::unordered_map<std::string_view, typename Order::iterator, KeyHasher>;

  // Aligned so that two shards' mutexes never share a cache line.
  struct alignas(64) Shard {
    mutable std::mutex mutex;
    Order order;
    Index index;  // its own KeyHasher, with its own random key
    std::int64_t last_sweep_ms = 0;
  };

  Shard& ShardOf(std::string_view stored) { return shards_[(hasher_(stored) >> 32) % kShards]; }
  const Shard& ShardOf(std::string_view stored) const { return shards_[(hasher_(stored) >> 32) % kShards]; }

  void Drop(Shard& shard, typename Order::iterator it) {
    shard.index.erase(std::string_view(it->key));
    shard.order.erase(it);
  }

  void DropIfExpired(Shard& shard, std::int64_t now_ms) {
    if (shard.order.front().value.Expired(now_ms)) Drop(shard, shard.order.begin());
  }

  void DropOldest(Shard& shard) {
    if (!shard.order.empty()) Drop(shard, std::prev(shard.order.end()));
  }

  // A full scan, so it runs at most once per interval per shard: a flood cannot make every call pay for it.
  void MaybeSweep(Shard& shard, std::int64_t now_ms) {
    if (now_ms < shard.last_sweep_ms) shard.last_sweep_ms = now_ms;  // the clock went back: restart the period
    if (now_ms - shard.last_sweep_ms < sweep_interval_ms_) return;
    SweepShard(shard, now_ms);
  }

  void SweepShard(Shard& shard, std::int64_t now_ms) {
    shard.last_sweep_ms = now_ms;
    for (auto it = shard.order.begin(); it != shard.order.end();) {
      auto next = std::next(it);
      if (it->value.Expired(now_ms)) Drop(shard, it);
      it = next;
    }
  }

  KeyHasher hasher_;
  std::size_t per_shard_;
  std::int64_t sweep_interval_ms_;
  std::array<Shard, kShards> shards_;
};

}  // namespace poste::ratelimit::detail
