#pragma once
// A cache of complete, ready-to-send public responses (DESIGN.md "How a request flows": public reads are
// served from ready bytes). An entry is immutable once built: its body, a gzip variant computed once, its
// Content-Type, a strong ETag (a hash of the body) and the site it belongs to. A hit is a shard lock, a hash
// lookup and a shared_ptr copy: no SQL, no thread hop.
//
// Bounded by total bytes: 16 shards, each with its own mutex, least-recently-used order and 1/16 of the
// budget. Keys are hashed with SipHash under a random key, so chosen keys (query strings) cannot pile into
// one bucket.
//
// Invalidation and fills race: a fill reads the database, a write commits and invalidates, then the fill
// stores what it read before the write. So a fill takes a Ticket() before it reads anything, and Put refuses
// the entry when its site (or everything) was invalidated since that ticket.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "lib/ratelimit/sharded_lru.hpp"

namespace poste::cache {

struct ReadyEntry {
  std::int64_t site_id = 0;
  std::string content_type;
  std::string etag;       // strong, quoted: "\"<32 hex>\""
  std::string gzip_etag;  // the gzip variant's own strong ETag ("\"<32 hex>-gz\""): another representation
  std::string identity;   // the body as is
  std::string gzip;       // the gzip variant; empty when compressing does not pay
  // Exact origins ("https://example.com") that may read this response from another origin (CORS).
  std::vector<std::string> allowed_origins;

  // What the entry costs the cache: its bytes plus a fixed overhead per entry.
  std::size_t Bytes() const;
};

// Builds an entry: the ETag from a SHA-256 of the body, and (unless gzip is false: an answer that will not be
// kept, which the pipeline compresses on demand) the gzip variant for compressible types (text, JSON, XML,
// JavaScript, SVG) of at least kGzipMinBytes when it comes out smaller.
inline constexpr std::size_t kGzipMinBytes = 512;
std::shared_ptr<const ReadyEntry> MakeReadyEntry(std::int64_t site_id, std::string content_type, std::string body,
                                                 std::vector<std::string> allowed_origins = {}, bool gzip = true);

class ReadyCache {
 public:
  static constexpr std::size_t kShards = 16;
  // Longer keys are not cached (a miss every time): they are hostile or useless, and would cost memory.
  static constexpr std::size_t kMaxKeyBytes = 2048;

  // max_bytes 0 turns the cache off: Get always misses and Put stores nothing.
  explicit ReadyCache(std::size_t max_bytes);
  ReadyCache(const ReadyCache&) = delete;
  ReadyCache& operator=(const ReadyCache&) = delete;

  bool enabled() const { return max_bytes_ > 0; }
  std::size_t max_bytes() const { return max_bytes_; }

  // The entry under `key`, made the most recently used; nullptr on a miss.
  std::shared_ptr<const ReadyEntry> Get(std::string_view key);

  // Take one before reading what an entry will hold; pass it to Put.
  std::uint64_t Ticket() const { return generation_.load(std::memory_order_acquire); }
  // Stores the entry (replacing one under the same key), evicting least recently used entries of its shard
  // to stay within the budget. False, storing nothing, when the cache is off, the key is too long, the entry
  // alone is larger than a shard's budget, or the entry's site was invalidated after `ticket`.
  bool Put(std::string key, std::shared_ptr<const ReadyEntry> entry, std::uint64_t ticket);

  // Drops every entry of the site. Call it after the write that changes the site has committed.
  void InvalidateSite(std::int64_t site_id);
  // Drops everything.
  void Clear();

  struct Stats {
    std::size_t entries = 0;
    std::size_t bytes = 0;
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t evictions = 0;  // dropped to make room
    std::uint64_t refused = 0;    // Puts refused because of an invalidation after their ticket
  };
  Stats GetStats() const;

 private:
  struct Node {
    std::string key;
    std::shared_ptr<const ReadyEntry> entry;
    std::size_t bytes = 0;
  };
  struct ViewHash {
    const ratelimit::detail::KeyHasher* hasher;
    std::size_t operator()(std::string_view key) const { return (*hasher)(key); }
  };
  struct Shard {
    explicit Shard(const ratelimit::detail::KeyHasher& hasher) : index(16, ViewHash{&hasher}) {}
    std::mutex mu;
    std::list<Node> lru;  // front: most recently used
    // Keys are views of the Node's own string (list nodes never move).
    std::unordered_map<std::string_view, std::list<Node>::iterator, ViewHash> index;
    std::unordered_map<std::int64_t, std::unordered_set<std::string_view>> by_site;
    std::size_t bytes = 0;
  };
  // An invalidation: the generation it produced and its site (0 for everything).
  struct Invalidation {
    std::uint64_t generation = 0;
    std::int64_t site_id = 0;
  };
  static constexpr std::size_t kLogSize = 64;

  Shard& ShardFor(std::string_view key);
  // Under the shard's lock.
  static void Erase(Shard& shard, std::list<Node>::iterator it);
  // Under log_mu_: whether the site was invalidated after the ticket (unknown = yes).
  bool InvalidatedSince(std::int64_t site_id, std::uint64_t ticket) const;
  void Record(std::int64_t site_id);

  std::size_t max_bytes_;
  std::size_t shard_budget_;
  ratelimit::detail::KeyHasher hasher_;
  std::vector<std::unique_ptr<Shard>> shards_;

  // Puts and invalidations serialise on log_mu_ (both are rare next to hits), so an invalidation can never
  // pass between a Put's check and its insert.
  mutable std::mutex log_mu_;
  std::atomic<std::uint64_t> generation_{0};
  std::array<Invalidation, kLogSize> log_{};

  std::atomic<std::uint64_t> hits_{0}, misses_{0}, evictions_{0}, refused_{0};
};

}  // namespace poste::cache
