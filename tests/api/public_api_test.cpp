// The public read API through the HTTP pipeline (the whole App in-process, SQLite and PostgreSQL): published
// entries only, the ready-bytes cache (ETag, 304, gzip, invalidation after every kind of write), CORS for the
// site's domains and the configured origins, preflights, hostile input, the rate limit and the cache turned off.
// Permissions per caller are in permissions_public_api_test.cpp.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "lib/gzip.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

using nlohmann::json;

class PublicApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override { config.server.cors_origins = {"https://extra.example.com"}; }
  void SetUp() override {
    PermissionTable::SetUp();
    if (HasFatalFailure()) return;
    auto r = As(kAdmin, "POST", "/api/v1/sites/alpha/collections", R"({"preset":"formations"})");
    ASSERT_EQ(r.status, 201) << r.body;
    for (int i = 1; i <= 3; ++i) {
      published_.push_back(AddEntry("alpha", "Cours " + std::to_string(i), true));
    }
    draft_ = AddEntry("alpha", "Brouillon secret", false);
  }

  web::Response As(Caller c, const std::string& method, const std::string& target, const std::string& body = {},
                   Headers extra = {}) {
    Headers h = callers_[c];
    h.insert(h.end(), extra.begin(), extra.end());
    return Call(method, target, h, body);
  }
  web::Response Public(const std::string& target, Headers headers = {}, const std::string& method = "GET") {
    return Call(method, "/api/v1/public/sites/" + target, headers);
  }
  std::int64_t AddEntry(const std::string& site, const std::string& title, bool published) {
    json body = {{"status", published ? "published" : "draft"},
                 {"data", {{"title", title}, {"status", "active"}, {"description", std::string(300, 'x')}}}};
    auto r = As(kAdmin, "POST", "/api/v1/sites/" + site + "/collections/formations/entries", body.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["id"].get<std::int64_t>();
  }
  static json Body(const web::Response& r) { return json::parse(r.body, nullptr, false); }
  static int Count(const web::Response& r, const std::string& header, const std::string& value) {
    int n = 0;
    for (const auto& [name, v] : r.headers.All()) {
      if (web::IEquals(name, header) && v.find(value) != std::string::npos) ++n;
    }
    return n;
  }

  std::vector<std::int64_t> published_;
  std::int64_t draft_ = 0;
};

TEST_P(PublicApi, ListsPublishedEntriesOnly) {
  auto r = Public("alpha/collections/formations/entries");
  ASSERT_EQ(r.status, 200) << r.body;
  auto items = Body(r)["items"];
  ASSERT_EQ(items.size(), 3u);
  for (const auto& e : items) EXPECT_EQ(e["status"], "published");
  EXPECT_EQ(r.body.find("Brouillon secret"), std::string::npos);
  EXPECT_EQ(Body(r)["next_cursor"], nullptr);
  // The same filters, sort and pagination as the admin list.
  r = Public("alpha/collections/formations/entries?limit=2&sort=-created_at");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(Body(r)["items"].size(), 2u);
  EXPECT_EQ(Body(r)["items"][0]["id"], published_[2]);
  const std::string cursor = Body(r)["next_cursor"];
  r = Public("alpha/collections/formations/entries?limit=2&sort=-created_at&cursor=" + cursor);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["items"].size(), 1u);
  r = Public("alpha/collections/formations/entries?data.title=Cours%202");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["items"].size(), 1u);
  // Asking for drafts is refused; status=published is allowed.
  EXPECT_EQ(Public("alpha/collections/formations/entries?status=draft").status, 400);
  EXPECT_EQ(Public("alpha/collections/formations/entries?status=published,draft").status, 400);
  EXPECT_EQ(Public("alpha/collections/formations/entries?status=published").status, 200);
  EXPECT_EQ(Public("alpha/collections/formations/entries?q=Brouillon").body.find("Brouillon secret"),
            std::string::npos);

  // One entry: published by id; the draft, an unknown id, another site's entry are 404 problems.
  r = Public("alpha/collections/formations/entries/" + std::to_string(published_[0]));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["data"]["title"], "Cours 1");
  auto missing = Public("alpha/collections/formations/entries/" + std::to_string(draft_));
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers.Get("Content-Type").value_or(""), "application/problem+json");
  EXPECT_EQ(Public("alpha/collections/formations/entries/999999").status, 404);
  EXPECT_EQ(Public("beta/collections/formations/entries/" + std::to_string(published_[0])).status, 404);
  EXPECT_EQ(Public("alpha/collections/nope/entries").status, 404);
  EXPECT_EQ(Public("nope/collections/formations/entries").status, 404);
  EXPECT_EQ(Public(std::to_string(site_a_) + "/collections/formations/entries").status, 200) << "by id too";
}

TEST_P(PublicApi, HostileInput) {
  for (const std::string& target : std::vector<std::string>{
           "alpha'--/settings", "%00/settings", "alpha%0d%0aX:1/settings", "%ff%fe/settings",

           "alpha/collections/formations/entries?unknown=1", "alpha/collections/formations/entries?limit=100000",
           "alpha/collections/formations/entries?cursor=%3Cscript%3E", "alpha/collections/formations/entries?q=%ff",
           "alpha/collections/formations/entries/..%2F..%2Fsettings", "alpha/collections/formations/entries/1%20OR%201",
           "alpha/seo/%3Cscript%3E", "alpha/seo/entry:formations%2F1%0d%0a",
           "alpha/collections/formations/entries?" + std::string(5000, 'a')}) {
    auto r = Public(target);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << target << " -> " << r.status << " " << r.body;
    EXPECT_EQ(r.body.find("SELECT"), std::string::npos) << target;
    EXPECT_EQ(r.body.find("<script>"), std::string::npos) << target;
  }
  // SQL in a filter value is a value: it matches nothing.
  auto sql = Public("alpha/collections/formations/entries?data.title=%27%20OR%201=1--");
  EXPECT_EQ(sql.status, 200);
  EXPECT_EQ(Body(sql)["items"].size(), 0u);
  // Garbage validators never match, never fail.
  for (const std::string& inm : std::vector<std::string>{"", "*x", "\"", "W/", std::string(3000, '"'), "\xff\xfe"}) {
    EXPECT_EQ(Public("alpha/settings", {{"If-None-Match", inm}}).status, 200) << inm;
  }
}

TEST_P(PublicApi, EtagsAnd304sAndGzipFromTheCache) {
  const std::string list = "alpha/collections/formations/entries";
  auto first = Public(list);
  ASSERT_EQ(first.status, 200);
  const std::string etag(first.headers.Get("ETag").value_or(""));
  ASSERT_EQ(etag.size(), 34u) << "a strong ETag";
  EXPECT_EQ(first.headers.Get("Cache-Control").value_or(""), "public, no-cache");
  auto second = Public(list);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.headers.Get("ETag").value_or(""), etag);

  auto not_modified = Public(list, {{"If-None-Match", etag}});
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_TRUE(not_modified.body.empty());
  EXPECT_EQ(not_modified.headers.Get("ETag").value_or(""), etag);
  EXPECT_EQ(Public(list, {{"If-None-Match", "W/" + etag}}).status, 304);
  EXPECT_EQ(Public(list, {{"If-None-Match", "\"other\""}}).status, 200);

  auto gz = Public(list, {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(gz.headers.Get("Content-Encoding").value_or(""), "gzip");
  EXPECT_EQ(GzipDecompress(gz.body, 1 << 24).value_or(""), first.body) << "compressed once, not twice";
  EXPECT_EQ(Count(gz, "Vary", "Accept-Encoding"), 1);
  EXPECT_EQ(Count(first, "Vary", "Accept-Encoding"), 1);
  EXPECT_FALSE(first.headers.Has("Content-Encoding"));

  // HEAD answers like GET (the server leaves the body out).
  auto head = Public(list, {}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.Get("ETag").value_or(""), etag);

  // Every other public answer too.
  for (std::string target : {"alpha/settings", "alpha/seo/home", "alpha/seo.json"}) {
    auto a = Public(target);
    ASSERT_EQ(a.status, 200) << target << a.body;
    EXPECT_EQ(Public(target, {{"If-None-Match", std::string(a.headers.Get("ETag").value_or(""))}}).status, 304);
  }

  // What the cache did shows in /metrics.
  auto metrics = Call("GET", "/metrics").body;
  EXPECT_NE(metrics.find("# TYPE poste_public_cache_lookups_total counter"), std::string::npos) << metrics;
  for (std::string sample : {"\nposte_public_cache_lookups_total{result=\"hit\"} ",
                             "\nposte_public_cache_lookups_total{result=\"miss\"} ", "\nposte_public_cache_entries "}) {
    auto at = metrics.find(sample);
    ASSERT_NE(at, std::string::npos) << sample;
    EXPECT_GE(std::stod(metrics.substr(at + sample.size())), 4) << sample;
  }
}

TEST_P(PublicApi, EveryWriteToTheSiteInvalidatesItsAnswers) {
  const std::string list = "alpha/collections/formations/entries";
  auto before = Public(list);
  const std::string etag(before.headers.Get("ETag").value_or(""));
  auto beta_settings = Public("beta/settings");

  // An entry changes: the list shows it at once; the old ETag no longer gives 304.
  auto r = As(kEditorA, "PATCH", "/api/v1/sites/alpha/collections/formations/entries/" + std::to_string(published_[0]),
              R"({"data":{"title":"Cours renommé"}})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto after = Public(list, {{"If-None-Match", etag}});
  ASSERT_EQ(after.status, 200);
  EXPECT_NE(after.body.find("Cours renommé"), std::string::npos);
  EXPECT_NE(after.headers.Get("ETag").value_or(""), etag);

  // Publishing the draft shows it; deleting an entry hides it.
  r = As(kEditorA, "PATCH", "/api/v1/sites/alpha/collections/formations/entries/" + std::to_string(draft_),
         R"({"status":"published"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(Public(list))["items"].size(), 4u);
  EXPECT_EQ(Public("alpha/collections/formations/entries/" + std::to_string(draft_)).status, 200);
  ASSERT_EQ(
      As(kEditorA, "DELETE", "/api/v1/sites/alpha/collections/formations/entries/" + std::to_string(published_[1]))
          .status,
      204);
  EXPECT_EQ(Body(Public(list))["items"].size(), 3u);

  // The site's own fields.
  EXPECT_EQ(Body(Public("alpha/settings"))["name"], "alpha");
  ASSERT_EQ(As(kEditorA, "PATCH", "/api/v1/sites/alpha", R"({"name":"Alpha Formation"})").status, 200);
  EXPECT_EQ(Body(Public("alpha/settings"))["name"], "Alpha Formation");
  EXPECT_EQ(Body(Public("alpha/seo/home"))["title"], "Alpha Formation");

  // SEO.
  ASSERT_EQ(As(kEditorA, "PUT", "/api/v1/sites/alpha/seo/home", R"({"title":"Accueil"})").status, 200);
  EXPECT_EQ(Body(Public("alpha/seo/home"))["title"], "Accueil");
  EXPECT_EQ(Body(Public("alpha/seo.json"))["pages"]["home"]["title"], "Accueil");

  // Another site's answers were kept (same bytes, same ETag).
  auto beta_again = Public("beta/settings");
  EXPECT_EQ(beta_again.headers.Get("ETag").value_or(""), beta_settings.headers.Get("ETag").value_or("x"));

  // A deleted site is gone at once.
  ASSERT_EQ(As(kAdmin, "DELETE", "/api/v1/sites/alpha").status, 204);
  EXPECT_EQ(Public(list).status, 404);
  EXPECT_EQ(Public("alpha/settings").status, 404);
}

TEST_P(PublicApi, PublicSettingsHoldNoTechnicalSetting) {
  ASSERT_EQ(
      As(kAdmin, "PUT", "/api/v1/sites/alpha/settings/smtp.password", R"({"value":"hunter2","secret":true})").status,
      200);
  ASSERT_EQ(As(kAdmin, "PUT", "/api/v1/sites/alpha/settings/api.key", R"({"value":"plain-technical-value"})").status,
            200);
  ASSERT_EQ(As(kAdmin, "PATCH", "/api/v1/sites/alpha",
               R"({"description":"Cours","contact":{"email":"info@alpha.example.com"},)"
               R"("social":{"facebook":"https://facebook.com/alpha"}})")
                .status,
            200);
  auto r = Public("alpha/settings");
  ASSERT_EQ(r.status, 200);
  auto j = Body(r);
  EXPECT_EQ(j["contact"]["email"], "info@alpha.example.com");
  EXPECT_EQ(j["social"]["facebook"], "https://facebook.com/alpha");
  EXPECT_EQ(j["locale"], "fr");
  EXPECT_EQ(r.body.find("hunter2"), std::string::npos);
  EXPECT_EQ(r.body.find("plain-technical-value"), std::string::npos);
  EXPECT_EQ(r.body.find("smtp"), std::string::npos);
  EXPECT_FALSE(j.contains("settings"));
}

TEST_P(PublicApi, CorsForTheSitesDomainsAndConfiguredOrigins) {
  const std::string list = "alpha/collections/formations/entries";
  auto own = Public(list, {{"Origin", "https://alpha.example.com"}});
  EXPECT_EQ(own.headers.Get("Access-Control-Allow-Origin").value_or(""), "https://alpha.example.com");
  EXPECT_EQ(Count(own, "Vary", "Origin"), 1);
  auto own_again = Public(list, {{"Origin", "http://alpha.example.com"}});  // a cache hit, another origin
  EXPECT_EQ(own_again.headers.Get("Access-Control-Allow-Origin").value_or(""), "http://alpha.example.com");
  for (std::string other :
       {"https://beta.example.com", "https://alpha.example.com.evil.com", "null", "https://ALPHA.example.com:8443"}) {
    auto r = Public(list, {{"Origin", other}});
    EXPECT_EQ(r.status, 200);
    EXPECT_FALSE(r.headers.Has("Access-Control-Allow-Origin")) << other;
  }
  auto extra = Public(list, {{"Origin", "https://extra.example.com"}});
  EXPECT_EQ(extra.headers.Get("Access-Control-Allow-Origin").value_or(""), "https://extra.example.com");
  EXPECT_EQ(Count(extra, "Vary", "Origin"), 1) << "the pipeline does not add a second Vary: Origin";
  // A 404 of the site is readable by the site's own pages.
  auto missing = Public("alpha/collections/nope/entries", {{"Origin", "https://alpha.example.com"}});
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers.Get("Access-Control-Allow-Origin").value_or(""), "https://alpha.example.com");

  // Preflights.
  auto pre = Public(list,
                    {{"Origin", "https://alpha.example.com"},
                     {"Access-Control-Request-Method", "GET"},
                     {"Access-Control-Request-Headers", "If-None-Match, Accept"}},
                    "OPTIONS");
  EXPECT_EQ(pre.status, 204);
  EXPECT_EQ(pre.headers.Get("Access-Control-Allow-Origin").value_or(""), "https://alpha.example.com");
  EXPECT_EQ(pre.headers.Get("Access-Control-Allow-Methods").value_or(""), "GET, HEAD, OPTIONS");
  EXPECT_EQ(pre.headers.Get("Access-Control-Allow-Headers").value_or(""), "if-none-match, accept");
  EXPECT_EQ(pre.headers.Get("Allow").value_or(""), "GET, HEAD, OPTIONS");
  auto pre_extra = Public(
      "alpha/settings", {{"Origin", "https://extra.example.com"}, {"Access-Control-Request-Method", "GET"}}, "OPTIONS");
  EXPECT_EQ(pre_extra.headers.Get("Access-Control-Allow-Origin").value_or(""), "https://extra.example.com");
  for (Headers refused : {Headers{{"Origin", "https://beta.example.com"}, {"Access-Control-Request-Method", "GET"}},
                          Headers{{"Origin", "https://alpha.example.com"}, {"Access-Control-Request-Method", "DELETE"}},
                          Headers{{"Origin", "https://alpha.example.com"},
                                  {"Access-Control-Request-Method", "GET"},
                                  {"Access-Control-Request-Headers", "Authorization"}}}) {
    auto r = Public(list, refused, "OPTIONS");
    EXPECT_EQ(r.status, 204);
    EXPECT_FALSE(r.headers.Has("Access-Control-Allow-Origin")) << refused[0].second << " " << refused[1].second;
  }
  EXPECT_EQ(Public("nope/settings", {{"Origin", "https://alpha.example.com"}, {"Access-Control-Request-Method", "GET"}},
                   "OPTIONS")
                .status,
            404);
}

TEST_P(PublicApi, SeoPagesAndSeoJson) {
  auto home = Public("alpha/seo/home");
  ASSERT_EQ(home.status, 200) << home.body;
  EXPECT_EQ(Body(home)["title"], "alpha");
  EXPECT_FALSE(Body(home)["description"].get<std::string>().empty());
  auto entry = Public("alpha/seo/entry:formations%2F" + std::to_string(published_[0]));
  ASSERT_EQ(entry.status, 200) << entry.body;
  EXPECT_EQ(Body(entry)["title"], "Cours 1");
  EXPECT_EQ(Body(entry)["open_graph"]["type"], "article");
  EXPECT_EQ(Public("alpha/seo/entry:formations%2F" + std::to_string(draft_)).status, 404);
  EXPECT_EQ(Public("alpha/seo/collection:nope").status, 404);
  EXPECT_EQ(Public("alpha/seo/nonsense").status, 400);
  auto doc = Public("alpha/seo.json");
  ASSERT_EQ(doc.status, 200);
  auto j = Body(doc);
  EXPECT_EQ(j["site"]["slug"], "alpha");
  EXPECT_TRUE(j["pages"].contains("collection:formations"));
}

TEST_P(PublicApi, SeoChangesEnqueueTheSeoJsonRegeneration) {
  ASSERT_EQ(As(kEditorA, "PUT", "/api/v1/sites/alpha/seo/home", R"({"title":"Accueil"})").status, 200);
  // The test app runs no workers: the job waits in the queue, keyed by site and generation.
  const auto count = db().ReadValue([&](soci::session& s) {
    long long n = 0;
    s << "SELECT COUNT(*) FROM jobs WHERE kind = 'seo.regenerate'", soci::into(n);
    return n;
  });
  EXPECT_GE(count, 1);
}

POSTE_INSTANTIATE_DB_TEST(PublicApi);

// The cache turned off: the same answers, built every time.
class PublicApiNoCache : public PublicApi {
 protected:
  void Configure(app::Config& config) override { config.server.public_cache_bytes = 0; }
};

TEST_P(PublicApiNoCache, SameAnswersWithoutTheCache) {
  const std::string list = "alpha/collections/formations/entries";
  auto first = Public(list);
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(Body(first)["items"].size(), 3u);
  const std::string etag(first.headers.Get("ETag").value_or(""));
  EXPECT_EQ(Public(list, {{"If-None-Match", etag}}).status, 304);
  auto gz = Public(list, {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(gz.headers.Get("Content-Encoding").value_or(""), "gzip") << "compressed by the pipeline on demand";
  EXPECT_EQ(GzipDecompress(gz.body, 1 << 24).value_or(""), first.body);
  ASSERT_EQ(As(kEditorA, "PATCH", "/api/v1/sites/alpha/collections/formations/entries/" + std::to_string(published_[0]),
               R"({"data":{"title":"Nouveau"}})")
                .status,
            200);
  EXPECT_NE(Public(list).body.find("Nouveau"), std::string::npos);
}

POSTE_INSTANTIATE_DB_TEST(PublicApiNoCache);

// The public group's own per-IP limit.
class PublicApiRateLimit : public PermissionTable {
 protected:
  void Configure(app::Config& config) override { config.rate_limit.public_per_ip = 5; }
};

TEST_P(PublicApiRateLimit, LimitsEachAddress) {
  for (int i = 0; i < 5; ++i) {
    auto r = Call("GET", "/api/v1/public/sites/alpha/settings", {}, {}, "203.0.113.50");
    ASSERT_EQ(r.status, 200) << i;
    EXPECT_TRUE(r.headers.Has("RateLimit-Limit"));
  }
  auto refused = Call("GET", "/api/v1/public/sites/alpha/settings", {}, {}, "203.0.113.50");
  EXPECT_EQ(refused.status, 429);
  EXPECT_TRUE(refused.headers.Has("Retry-After"));
  EXPECT_EQ(Call("GET", "/api/v1/public/sites/alpha/settings", {}, {}, "203.0.113.51").status, 200)
      << "another address has its own bucket";
}

POSTE_INSTANTIATE_DB_TEST(PublicApiRateLimit);

}  // namespace
}  // namespace poste::testing
