#include "lib/cache/ready_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "lib/cache/ready_response.hpp"
#include "lib/gzip.hpp"
#include "lib/web/body_source.hpp"

namespace poste::cache {
namespace {

std::string JsonList(int n) {
  std::string body = "{\"items\":[";
  for (int i = 0; i < n; ++i) body += (i ? "," : "") + std::string("{\"id\":") + std::to_string(i) + ",\"t\":\"x\"}";
  return body + "]}";
}

web::Request Get(std::vector<std::pair<std::string, std::string>> headers = {}) {
  web::Request r;
  r.method = "GET";
  r.path = "/x";
  for (auto& [k, v] : headers) r.headers.Add(k, v);
  return r;
}

TEST(ReadyEntry, HasStrongEtagAndGzipVariantForCompressibleBodies) {
  auto e = MakeReadyEntry(7, "application/json", JsonList(100));
  EXPECT_EQ(e->site_id, 7);
  ASSERT_EQ(e->etag.size(), 34u);
  EXPECT_EQ(e->etag.front(), '"');
  EXPECT_EQ(e->etag.back(), '"');
  ASSERT_FALSE(e->gzip.empty());
  EXPECT_LT(e->gzip.size(), e->identity.size());
  EXPECT_EQ(GzipDecompress(e->gzip, 1 << 20).value(), e->identity);
  // Same body, same ETag; another body, another one.
  EXPECT_EQ(MakeReadyEntry(1, "application/json", JsonList(100))->etag, e->etag);
  EXPECT_NE(MakeReadyEntry(7, "application/json", JsonList(99))->etag, e->etag);
  // Not asked for (an answer that is not kept), small bodies and binary types: no gzip variant.
  EXPECT_TRUE(MakeReadyEntry(7, "application/json", JsonList(100), {}, false)->gzip.empty());
  EXPECT_TRUE(MakeReadyEntry(7, "application/json", "{}")->gzip.empty());
  EXPECT_TRUE(MakeReadyEntry(7, "image/png", std::string(4096, 'a'))->gzip.empty());
}

TEST(ReadyCache, HitsMissesAndReplacement) {
  ReadyCache cache(1 << 20);
  EXPECT_EQ(cache.Get("k"), nullptr);
  auto e = MakeReadyEntry(1, "application/json", "{\"a\":1}");
  ASSERT_TRUE(cache.Put("k", e, cache.Ticket()));
  auto hit = cache.Get("k");
  ASSERT_NE(hit, nullptr);
  EXPECT_EQ(hit.get(), e.get()) << "a hit shares the immutable entry, no copy";
  auto e2 = MakeReadyEntry(1, "application/json", "{\"a\":2}");
  ASSERT_TRUE(cache.Put("k", e2, cache.Ticket()));
  EXPECT_EQ(cache.Get("k")->identity, "{\"a\":2}");
  auto stats = cache.GetStats();
  EXPECT_EQ(stats.entries, 1u);
  EXPECT_EQ(stats.hits, 2u);
  EXPECT_EQ(stats.misses, 1u);
  EXPECT_EQ(stats.bytes, e2->Bytes() + 1);
}

TEST(ReadyCache, OffWhenZeroBytes) {
  ReadyCache cache(0);
  EXPECT_FALSE(cache.enabled());
  EXPECT_FALSE(cache.Put("k", MakeReadyEntry(1, "text/plain", "x"), cache.Ticket()));
  EXPECT_EQ(cache.Get("k"), nullptr);
}

TEST(ReadyCache, RefusesHostileKeysAndOversizedEntries) {
  ReadyCache cache(ReadyCache::kShards * 4096);
  std::string long_key(ReadyCache::kMaxKeyBytes + 1, 'a');
  EXPECT_FALSE(cache.Put(long_key, MakeReadyEntry(1, "text/plain", "x"), cache.Ticket()));
  EXPECT_EQ(cache.Get(long_key), nullptr);
  EXPECT_FALSE(cache.Put("big", MakeReadyEntry(1, "image/png", std::string(8192, 'b')), cache.Ticket()));
  // Keys with CR/LF, NUL, invalid UTF-8 are just bytes.
  std::string odd("a\r\nb\0c\xff", 8);
  ASSERT_TRUE(cache.Put(odd, MakeReadyEntry(1, "text/plain", "odd"), cache.Ticket()));
  EXPECT_EQ(cache.Get(odd)->identity, "odd");
  EXPECT_EQ(cache.Get(std::string("a\r\nb", 4)), nullptr);
}

TEST(ReadyCache, StaysWithinItsByteBoundEvictingLeastRecentlyUsed) {
  const std::size_t budget = ReadyCache::kShards * 8192;
  ReadyCache cache(budget);
  const std::string body(1000, 'z');
  for (int i = 0; i < 2000; ++i) {
    cache.Put("key-" + std::to_string(i), MakeReadyEntry(1, "image/png", body), cache.Ticket());
    ASSERT_LE(cache.GetStats().bytes, budget);
  }
  auto stats = cache.GetStats();
  EXPECT_GT(stats.evictions, 1000u);
  EXPECT_GT(stats.entries, 0u);
  EXPECT_EQ(cache.Get("key-0"), nullptr) << "the oldest entries went first";
  EXPECT_NE(cache.Get("key-1999"), nullptr) << "the newest stays";
}

TEST(ReadyCache, RecentlyUsedEntrySurvivesEviction) {
  // One shard's worth of keys: find keys landing in the same shard by filling a tiny cache.
  ReadyCache cache(ReadyCache::kShards * 3000);  // ~2 entries of 1256 bytes per shard
  const std::string body(1000, 'z');
  std::vector<std::string> keys;
  for (int i = 0; i < 400; ++i) keys.push_back("k" + std::to_string(i));
  cache.Put(keys[0], MakeReadyEntry(1, "image/png", body), cache.Ticket());
  for (std::size_t i = 1; i < keys.size(); ++i) {
    ASSERT_NE(cache.Get(keys[0]), nullptr) << "touched before every insert, so never the LRU victim (i=" << i << ")";
    cache.Put(keys[i], MakeReadyEntry(1, "image/png", body), cache.Ticket());
  }
  EXPECT_NE(cache.Get(keys[0]), nullptr);
  EXPECT_GT(cache.GetStats().evictions, 0u);
}

TEST(ReadyCache, InvalidateSiteDropsOnlyThatSite) {
  ReadyCache cache(1 << 20);
  for (int i = 0; i < 50; ++i) {
    cache.Put("a" + std::to_string(i), MakeReadyEntry(1, "text/plain", "a"), cache.Ticket());
    cache.Put("b" + std::to_string(i), MakeReadyEntry(2, "text/plain", "b"), cache.Ticket());
  }
  cache.InvalidateSite(1);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(cache.Get("a" + std::to_string(i)), nullptr);
    EXPECT_NE(cache.Get("b" + std::to_string(i)), nullptr);
  }
  EXPECT_EQ(cache.GetStats().entries, 50u);
  cache.Clear();
  EXPECT_EQ(cache.GetStats().entries, 0u);
  EXPECT_EQ(cache.GetStats().bytes, 0u);
}

TEST(ReadyCache, FillThatRacedAnInvalidationIsRefused) {
  ReadyCache cache(1 << 20);
  const auto ticket = cache.Ticket();  // the fill starts reading
  cache.InvalidateSite(1);             // a write to site 1 commits meanwhile
  EXPECT_FALSE(cache.Put("a", MakeReadyEntry(1, "text/plain", "stale"), ticket));
  EXPECT_EQ(cache.Get("a"), nullptr);
  EXPECT_TRUE(cache.Put("b", MakeReadyEntry(2, "text/plain", "other site"), ticket)) << "site 2 was not touched";
  EXPECT_EQ(cache.GetStats().refused, 1u);
  // A ticket older than the invalidation log remembers is refused whatever the site.
  const auto old = cache.Ticket();
  for (int i = 0; i < 100; ++i) cache.InvalidateSite(100 + i);
  EXPECT_FALSE(cache.Put("c", MakeReadyEntry(3, "text/plain", "x"), old));
  // Clear counts for every site.
  const auto before_clear = cache.Ticket();
  cache.Clear();
  EXPECT_FALSE(cache.Put("d", MakeReadyEntry(3, "text/plain", "x"), before_clear));
}

TEST(ReadyCache, ConcurrentHitsPutsAndInvalidations) {
  ReadyCache cache(ReadyCache::kShards * 16384);
  std::atomic<long> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        const std::string key = "site" + std::to_string(i % 4) + "/k" + std::to_string(i % 97);
        if (auto e = cache.Get(key)) {
          ASSERT_EQ(e->identity, key) << "an entry is never torn or mixed up";
          hits.fetch_add(1);
        } else {
          cache.Put(key, MakeReadyEntry(i % 4 + 1, "text/plain", key), cache.Ticket());
        }
        if (t == 0 && i % 500 == 0) cache.InvalidateSite(i % 4 + 1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GT(hits.load(), 10000);
  auto stats = cache.GetStats();
  EXPECT_LE(stats.bytes, ReadyCache::kShards * 16384u);
}

// A response's body, whether held in Response::body or shared from the entry (Response::stream).
std::string BodyOf(const web::Response& r) {
  if (!r.stream) return r.body;
  return std::string(r.stream->InMemory().value());
}

TEST(ServeReady, AnswersConditionalRequestsWith304) {
  auto e = MakeReadyEntry(1, "application/json", JsonList(5));
  auto full = ServeReady(Get(), e);
  EXPECT_EQ(full.status, 200);
  EXPECT_FALSE(full.encoded) << "no gzip variant: the pipeline may still compress";
  EXPECT_EQ(full.body, e->identity);
  EXPECT_EQ(full.headers.Get("ETag").value(), e->etag);
  EXPECT_EQ(full.headers.Get("Content-Type").value(), "application/json");
  EXPECT_EQ(full.headers.Get("Cache-Control").value(), kPublicCacheControl);

  for (std::string inm : {e->etag, "W/" + e->etag, "\"other\", " + e->etag, std::string("*")}) {
    auto r = ServeReady(Get({{"If-None-Match", inm}}), e);
    EXPECT_EQ(r.status, 304) << inm;
    EXPECT_TRUE(r.body.empty());
    EXPECT_EQ(r.headers.Get("ETag").value(), e->etag);
  }
  for (std::string inm :
       {std::string("\"other\""), std::string(""), e->etag.substr(1), std::string("\r\n"), std::string("\"\xff\"")}) {
    EXPECT_EQ(ServeReady(Get({{"If-None-Match", inm}}), e).status, 200) << inm;
  }
}

TEST(ServeReady, ServesTheGzipVariantToClientsThatAcceptIt) {
  auto e = MakeReadyEntry(1, "application/json", JsonList(100));
  auto gz = ServeReady(Get({{"Accept-Encoding", "br, gzip"}}), e);
  EXPECT_EQ(gz.headers.Get("Content-Encoding").value(), "gzip");
  EXPECT_EQ(gz.headers.Get("Vary").value(), "Accept-Encoding");
  EXPECT_EQ(BodyOf(gz), e->gzip);
  ASSERT_TRUE(gz.stream && gz.body.empty()) << "the entry's bytes are shared, not copied";
  EXPECT_EQ(gz.stream->InMemory().value().data(), e->gzip.data());
  EXPECT_TRUE(gz.encoded) << "the pipeline must not compress it again";
  EXPECT_EQ(gz.headers.Get("ETag").value(), e->gzip_etag) << "another representation, another strong ETag";
  EXPECT_NE(e->gzip_etag, e->etag);
  // Either tag is current: a 304 whichever variant the client holds.
  EXPECT_EQ(ServeReady(Get({{"If-None-Match", e->gzip_etag}}), e).status, 304);
  EXPECT_EQ(ServeReady(Get({{"If-None-Match", e->etag}, {"Accept-Encoding", "gzip"}}), e).status, 304);
  auto plain = ServeReady(Get({{"Accept-Encoding", "gzip;q=0, identity"}}), e);
  EXPECT_FALSE(plain.headers.Has("Content-Encoding"));
  EXPECT_EQ(plain.headers.Get("Vary").value(), "Accept-Encoding");
  EXPECT_EQ(BodyOf(plain), e->identity);
  EXPECT_TRUE(plain.encoded) << "nor compress what this client refused, nor add a second Vary";
  EXPECT_FALSE(ServeReady(Get(), e).headers.Has("Content-Encoding"));
}

TEST(ServeReady, AllowsOnlyTheEntrysOrigins) {
  auto e = MakeReadyEntry(1, "application/json", "{}", {"https://alpha.example.com"});
  auto ok = ServeReady(Get({{"Origin", "https://alpha.example.com"}}), e);
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Origin").value(), "https://alpha.example.com");
  EXPECT_EQ(ok.headers.Get("Vary").value(), "Origin");
  for (auto origin : {"https://evil.example.com", "https://alpha.example.com.evil.com", "null", "*"}) {
    auto r = ServeReady(Get({{"Origin", origin}}), e);
    EXPECT_FALSE(r.headers.Has("Access-Control-Allow-Origin")) << origin;
    EXPECT_EQ(r.status, 200);
  }
}

}  // namespace
}  // namespace poste::cache
