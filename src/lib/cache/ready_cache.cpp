#include "lib/cache/ready_cache.hpp"

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/gzip.hpp"

namespace poste::cache {

namespace {

// Per entry: the node, the index and site-index slots, the control block. A rough, safe figure.
constexpr std::size_t kEntryOverhead = 256;

bool Compressible(std::string_view type) {
  return type.starts_with("text/") || type.find("json") != std::string_view::npos ||
         type.find("javascript") != std::string_view::npos || type.find("xml") != std::string_view::npos ||
         type.starts_with("image/svg");
}

}  // namespace

std::size_t ReadyEntry::Bytes() const {
  std::size_t n = kEntryOverhead + content_type.size() + etag.size() + gzip_etag.size() + identity.size() + gzip.size();
  for (const auto& origin : allowed_origins) n += origin.size() + sizeof(std::string);
  return n;
}

std::shared_ptr<const ReadyEntry> MakeReadyEntry(std::int64_t site_id, std::string content_type, std::string body,
                                                 std::vector<std::string> allowed_origins, bool gzip) {
  auto entry = std::make_shared<ReadyEntry>();
  entry->site_id = site_id;
  // 128 bits of SHA-256 are plenty to tell two versions of one resource apart.
  entry->etag = "\"" + crypto::HexEncode(crypto::Sha256(body).substr(0, 16)) + "\"";
  if (gzip && body.size() >= kGzipMinBytes && Compressible(content_type)) {
    auto packed = GzipCompress(body);
    if (packed.size() < body.size()) {
      entry->gzip = std::move(packed);
      entry->gzip_etag = entry->etag.substr(0, entry->etag.size() - 1) + "-gz\"";
    }
  }
  entry->content_type = std::move(content_type);
  entry->identity = std::move(body);
  entry->allowed_origins = std::move(allowed_origins);
  return entry;
}

ReadyCache::ReadyCache(std::size_t max_bytes) : max_bytes_(max_bytes), shard_budget_(max_bytes / kShards) {
  shards_.reserve(kShards);
  for (std::size_t i = 0; i < kShards; ++i) shards_.push_back(std::make_unique<Shard>(hasher_));
}

ReadyCache::Shard& ReadyCache::ShardFor(std::string_view key) {
  // The top bits pick the shard; the maps use the whole hash, so the two choices stay independent enough.
  return *shards_[(hasher_(key) >> 59) % kShards];
}

std::shared_ptr<const ReadyEntry> ReadyCache::Get(std::string_view key) {
  if (!enabled() || key.size() > kMaxKeyBytes) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.index.find(key);
  if (it == shard.index.end()) {
    misses_.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
  hits_.fetch_add(1, std::memory_order_relaxed);
  return it->second->entry;
}

void ReadyCache::Erase(Shard& shard, std::list<Node>::iterator it) {
  const std::string_view key = it->key;
  if (auto site = shard.by_site.find(it->entry->site_id); site != shard.by_site.end()) {
    site->second.erase(key);
    if (site->second.empty()) shard.by_site.erase(site);
  }
  shard.index.erase(key);
  shard.bytes -= it->bytes;
  shard.lru.erase(it);
}

bool ReadyCache::InvalidatedSince(std::int64_t site_id, std::uint64_t ticket) const {
  const std::uint64_t now = generation_.load(std::memory_order_relaxed);
  if (ticket == now) return false;
  // Older than the log remembers: assume the worst.
  if (now - ticket > kLogSize) return true;
  for (std::uint64_t g = ticket + 1; g <= now; ++g) {
    const auto& record = log_[g % kLogSize];
    if (record.site_id == 0 || record.site_id == site_id) return true;
  }
  return false;
}

void ReadyCache::Record(std::int64_t site_id) {
  const std::uint64_t g = generation_.load(std::memory_order_relaxed) + 1;
  log_[g % kLogSize] = {g, site_id};
  generation_.store(g, std::memory_order_release);
}

bool ReadyCache::Put(std::string key, std::shared_ptr<const ReadyEntry> entry, std::uint64_t ticket) {
  if (!enabled() || !entry || key.size() > kMaxKeyBytes) return false;
  const std::size_t bytes = entry->Bytes() + key.size();
  if (bytes > shard_budget_) return false;
  std::lock_guard log_lock(log_mu_);
  if (InvalidatedSince(entry->site_id, ticket)) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  Shard& shard = ShardFor(key);
  std::lock_guard lock(shard.mu);
  if (auto old = shard.index.find(key); old != shard.index.end()) Erase(shard, old->second);
  while (shard.bytes + bytes > shard_budget_ && !shard.lru.empty()) {
    Erase(shard, std::prev(shard.lru.end()));
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
  const std::int64_t site_id = entry->site_id;
  shard.lru.push_front(Node{std::move(key), std::move(entry), bytes});
  const std::string_view stored = shard.lru.front().key;
  shard.index.emplace(stored, shard.lru.begin());
  shard.by_site[site_id].insert(stored);
  shard.bytes += bytes;
  return true;
}

void ReadyCache::InvalidateSite(std::int64_t site_id) {
  std::lock_guard log_lock(log_mu_);
  // site 0 in the log means "everything"; a real site id is never 0, but keep the meaning exact.
  Record(site_id == 0 ? -1 : site_id);
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    auto site = shard->by_site.find(site_id);
    if (site == shard->by_site.end()) continue;
    // Erase edits the set being walked: take the keys first.
    std::vector<std::string_view> keys(site->second.begin(), site->second.end());
    for (auto key : keys) {
      if (auto it = shard->index.find(key); it != shard->index.end()) Erase(*shard, it->second);
    }
  }
}

void ReadyCache::Clear() {
  std::lock_guard log_lock(log_mu_);
  Record(0);
  for (auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    shard->index.clear();
    shard->by_site.clear();
    shard->lru.clear();
    shard->bytes = 0;
  }
}

ReadyCache::Stats ReadyCache::GetStats() const {
  Stats stats;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    stats.entries += shard->lru.size();
    stats.bytes += shard->bytes;
  }
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  stats.evictions = evictions_.load(std::memory_order_relaxed);
  stats.refused = refused_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace poste::cache
