#include "lib/ratelimit/sharded_lru.hpp"

#include <gtest/gtest.h>

#include <string>

namespace poste::ratelimit::detail {
namespace {

struct Counter {
  int hits = 0;
  std::int64_t expires_ms = 1'000'000;
  bool Expired(std::int64_t now_ms) const { return now_ms >= expires_ms; }
};

TEST(StoredKey, ShortKeysAreKeptLongOnesDigested) {
  std::array<char, kDigestKeySize> a, b;
  EXPECT_EQ(StoredKey("ip:192.0.2.1", a), "ip:192.0.2.1");
  EXPECT_EQ(StoredKey("", a), "");
  std::string limit(kMaxRawKey, 'k');
  EXPECT_EQ(StoredKey(limit, a), limit);

  std::string long1(kMaxRawKey + 1, 'k'), long2 = long1;
  long2[0] = 'j';
  auto d1 = std::string(StoredKey(long1, a));
  auto d2 = std::string(StoredKey(long2, b));
  EXPECT_EQ(d1.size(), kDigestKeySize);
  EXPECT_EQ(d1[0], '\0');
  EXPECT_NE(d1, d2);
  EXPECT_EQ(std::string(StoredKey(long1, b)), d1);
  // A short key that starts like a digest is digested as well, so it cannot pose as one.
  std::string fake = d1;
  EXPECT_NE(std::string(StoredKey(fake, b)), d1);
  EXPECT_EQ(StoredKey(std::string_view("\0x", 2), b).size(), kDigestKeySize);
}

TEST(KeyHasher, IsKeyedPerInstance) {
  KeyHasher h1, h2;
  EXPECT_EQ(h1("abc"), h1("abc"));
  EXPECT_NE(h1("abc"), h1("abd"));
  // Two instances agree on a key with probability 2^-64.
  EXPECT_NE(h1("abc"), h2("abc"));
}

TEST(ShardedLru, UpdateCreatesFindsAndReturns) {
  ShardedLru<Counter> store(100, 1000);
  EXPECT_TRUE(store.Update("a", 0, [](Counter& c, bool created) {
    ++c.hits;
    return created;
  }));
  EXPECT_FALSE(store.Update("a", 0, [](Counter& c, bool created) {
    ++c.hits;
    return created;
  }));
  EXPECT_EQ(store.Read("a", [](const Counter* c) { return c ? c->hits : -1; }), 2);
  EXPECT_EQ(store.Read("b", [](const Counter* c) { return c ? c->hits : -1; }), -1);
  EXPECT_EQ(store.Size(), 1u);  // Read created nothing
  EXPECT_TRUE(store.Erase("a"));
  EXPECT_FALSE(store.Erase("a"));
  EXPECT_EQ(store.Size(), 0u);
}

TEST(ShardedLru, DropsStateThatIsExpiredAfterTheUpdate) {
  ShardedLru<Counter> store(100, 1000);
  store.Update("gone", 0, [](Counter& c, bool) { c.expires_ms = 0; });
  EXPECT_EQ(store.Size(), 0u);
  store.Update("kept", 0, [](Counter& c, bool) { c.expires_ms = 10; });
  EXPECT_EQ(store.Size(), 1u);
  store.Sweep(9);
  EXPECT_EQ(store.Size(), 1u);
  store.Sweep(10);
  EXPECT_EQ(store.Size(), 0u);
}

TEST(ShardedLru, EvictsTheLeastRecentlyUsed) {
  ShardedLru<Counter> store(ShardedLru<Counter>::kShards * 4, 1'000'000);
  store.Update("stale", 0, [](Counter&, bool) {});
  store.Update("hot", 0, [](Counter&, bool) {});
  for (int i = 0; i < 10'000; ++i) {
    store.Update("flood" + std::to_string(i), 0, [](Counter&, bool) {});
    // Touched after every insert, so never the oldest of its shard.
    ASSERT_FALSE(store.Update("hot", 0, [](Counter&, bool created) { return created; })) << i;
  }
  EXPECT_LE(store.Size(), 64u);
  EXPECT_EQ(store.Read("stale", [](const Counter* c) { return c != nullptr; }), false);
}

TEST(ShardedLru, TinyCapsStillHoldOnePerShard) {
  ShardedLru<Counter> store(0, 1000);
  for (int i = 0; i < 1000; ++i) store.Update(std::to_string(i), 0, [](Counter&, bool) {});
  EXPECT_LE(store.Size(), ShardedLru<Counter>::kShards);
  EXPECT_GE(store.Size(), 1u);
}

TEST(ShardedLru, SweepsLazilyOncePerInterval) {
  ShardedLru<Counter> store(100'000, 100);
  for (int i = 0; i < 500; ++i) {
    store.Update("old" + std::to_string(i), 0, [](Counter& c, bool) { c.expires_ms = 50; });
  }
  // Inside the interval nothing is swept even though everything has expired.
  store.Update("x", 60, [](Counter&, bool) {});
  EXPECT_EQ(store.Size(), 501u);
  // Past it, each shard that is touched sweeps itself.
  for (int i = 0; i < 500; ++i) store.Update("new" + std::to_string(i), 100, [](Counter&, bool) {});
  EXPECT_EQ(store.Size(), 501u);  // the 500 new ones and "x"
}

}  // namespace
}  // namespace poste::ratelimit::detail
