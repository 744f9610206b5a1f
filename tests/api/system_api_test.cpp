// System endpoints and the OpenAPI document, on SQLite and PostgreSQL.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

#include "lib/gzip.hpp"
#include "lib/web/router.hpp"
#include "scenario.hpp"

namespace poste::testing {
namespace {

class SystemApi : public ApiTest {};

TEST_P(SystemApi, Scenarios) {
  Run({
      {"alive", "GET", "/healthz", {}, "", 200, {R"("status":"ok")"}, {{"Content-Type", "application/json"}}},
      {"ready", "GET", "/readyz", {}, "", 200, {R"("status":"ready")"}, {}},
      {"metrics",
       "GET",
       "/metrics",
       {},
       "",
       200,
       {"# TYPE poste_http_requests_total counter", "poste_build_info{version=", "poste_jobs",
        "poste_blocking_pool_queue_depth", "poste_db_pool_connections"},
       {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}}},
      {"openapi", "GET", "/api/v1/openapi.json", {}, "", 200, {R"("openapi":"3.1)"}, {}},
      {"unknown route",
       "GET",
       "/api/v1/nothing-here",
       {},
       "",
       404,
       {R"("status":404)", "urn:poste:problem:not-found"},
       {{"Content-Type", "application/problem+json"}}},
      {"wrong method", "POST", "/healthz", {}, "", 405, {R"("status":405)"}, {{"Allow", "GET, HEAD, OPTIONS"}}},
      {"head", "HEAD", "/healthz", {}, "", 200, {}, {}},
      {"options", "OPTIONS", "/readyz", {}, "", 204, {}, {{"Allow", "GET, HEAD, OPTIONS"}}},
      {"client request id",
       "GET",
       "/healthz",
       {{"X-Request-Id", "trace-42"}},
       "",
       200,
       {},
       {{"X-Request-Id", "trace-42"}}},
      {"hostile path", "GET", "/api/v1/%3Cscript%3E'%22;DROP TABLE jobs", {}, "", 404, {"not-found"}, {}},
  });
  // The table above ran SQL through /readyz and /metrics; the jobs table must still be there.
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
}

TEST_P(SystemApi, OpenApiDocumentsEveryRouteAndNothingElse) {
  auto r = Call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(r.status, 200);
  auto doc = nlohmann::json::parse(r.body);
  std::set<std::string> documented;
  for (auto& [path, item] : doc["paths"].items()) {
    for (auto& [method, op] : item.items()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      std::string upper = method;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(upper + " " + path);
    }
  }
  std::set<std::string> routed;
  for (const auto& route : application().router().Routes()) {
    if (route->options.documented) routed.insert(route->method + " " + route->pattern);
  }
  for (const auto& r : routed) EXPECT_TRUE(documented.count(r)) << "route not in docs/openapi.yaml: " << r;
  for (const auto& d : documented) EXPECT_TRUE(routed.count(d)) << "documented route does not exist: " << d;
  EXPECT_FALSE(routed.empty());
}

TEST_P(SystemApi, TheOpenApiDocumentIsCompressedOnceAndRevalidated) {
  auto plain = Call("GET", "/api/v1/openapi.json");
  ASSERT_EQ(plain.status, 200);
  const std::string etag(plain.headers.Get("ETag").value_or(""));
  EXPECT_FALSE(etag.empty());
  EXPECT_EQ(Call("GET", "/api/v1/openapi.json", {{"If-None-Match", etag}}).status, 304);
  auto gz = Call("GET", "/api/v1/openapi.json", {{"Accept-Encoding", "gzip"}});
  EXPECT_EQ(gz.headers.Get("Content-Encoding").value_or(""), "gzip");
  EXPECT_EQ(GzipDecompress(gz.body, 1 << 24).value_or(""), plain.body);
  EXPECT_LT(gz.body.size(), plain.body.size() / 3);
}

POSTE_INSTANTIATE_DB_TEST(SystemApi);

}  // namespace
}  // namespace poste::testing
