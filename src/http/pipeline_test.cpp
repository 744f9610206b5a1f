#include "http/pipeline.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

#include "http/http_metrics.hpp"
#include "lib/error.hpp"
#include "lib/gzip.hpp"
#include "lib/metrics/metrics.hpp"
#include "lib/web/json_body.hpp"
#include "support/run_task.hpp"

namespace poste::http {
namespace {

using web::Request;
using web::RequestContext;
using web::Response;
using web::Task;

std::string BigJson() {
  nlohmann::json items = nlohmann::json::array();
  for (int i = 0; i < 200; ++i) items.push_back({{"id", i}, {"title", "entry number " + std::to_string(i)}});
  return items.dump();
}

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() : http_metrics(registry) {
    auto root = router.Root();
    root.Get("/api/v1/big", [](RequestContext&) -> Task<Response> { co_return Response::Json(200, BigJson()); });
    root.Get("/api/v1/small", [](RequestContext&) -> Task<Response> { co_return Response::Json(200, "{}"); });
    root.Post("/api/v1/echo", [](RequestContext& ctx) -> Task<Response> {
      co_return Response::Json(200, web::ParseJsonBody(ctx.request).dump());
    });
    root.Get("/api/v1/boom", [](RequestContext&) -> Task<Response> {
      throw std::runtime_error("SELECT secret FROM users at /srv/poste/db.cpp:42");
      co_return Response::Empty(200);
    });
    root.Get("/api/v1/invalid", [](RequestContext&) -> Task<Response> {
      throw AppError::Validation({{"email", "invalid", "not an email address"}});
      co_return Response::Empty(200);
    });
    root.Get("/api/v1/items/{id}", [](RequestContext& ctx) -> Task<Response> {
      co_return Response::Json(200, nlohmann::json{{"id", ctx.Param("id")}, {"route", std::string(ctx.route)}}.dump());
    });
    pipeline = std::make_unique<Pipeline>(router, PipelineOptions{1024, {"https://allowed.example"}, true, false},
                                          &http_metrics);
  }

  Response Call(std::string method, std::string target, std::vector<std::pair<std::string, std::string>> headers = {},
                std::string body = {}) {
    Request r;
    r.method = std::move(method);
    r.target = target;
    web::SplitTarget(target, r.path, r.query);
    for (auto& [k, v] : headers) r.headers.Add(k, v);
    r.body = std::move(body);
    return testing::RunTask(pipeline->Handle(r));
  }

  static nlohmann::json Body(const Response& r) { return nlohmann::json::parse(r.body); }

  metrics::Registry registry;
  HttpMetrics http_metrics;
  web::Router router;
  std::unique_ptr<Pipeline> pipeline;
};

TEST_F(PipelineTest, RoutesWithParamsAndRequestIds) {
  auto r = Call("GET", "/api/v1/items/42?x=1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["id"], "42");
  EXPECT_EQ(Body(r)["route"], "/api/v1/items/{id}");
  auto id = r.headers.Get("X-Request-Id");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->size(), 16u);

  EXPECT_EQ(Call("GET", "/api/v1/small", {{"X-Request-Id", "client-id.1"}}).headers.Get("X-Request-Id").value(),
            "client-id.1");
  auto replaced = Call("GET", "/api/v1/small", {{"X-Request-Id", "bad id\r\nX-Evil: 1"}});
  EXPECT_NE(replaced.headers.Get("X-Request-Id").value(), "bad id\r\nX-Evil: 1");
  EXPECT_EQ(replaced.headers.Get("X-Request-Id")->size(), 16u);
}

TEST_F(PipelineTest, NotFoundIsAProblemDocument) {
  auto r = Call("GET", "/nope/<script>");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.headers.Get("Content-Type").value(), "application/problem+json");
  auto b = Body(r);
  EXPECT_EQ(b["status"], 404);
  EXPECT_EQ(b["title"], "Not Found");
  EXPECT_EQ(b["type"], "urn:poste:problem:not-found");
  EXPECT_EQ(b["instance"], "/nope/<script>");
  EXPECT_EQ(b["request_id"], r.headers.Get("X-Request-Id").value());
  EXPECT_TRUE(b.contains("detail"));
}

TEST_F(PipelineTest, WrongMethodIs405WithAllow) {
  auto r = Call("DELETE", "/api/v1/small");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.headers.Get("Allow").value(), "GET, HEAD, OPTIONS");
  EXPECT_EQ(Body(r)["status"], 405);
}

TEST_F(PipelineTest, BadPercentEscapeIs400) { EXPECT_EQ(Call("GET", "/api/v1/items/%zz").status, 400); }

TEST_F(PipelineTest, HeadReachesTheGetRoute) {
  auto r = Call("HEAD", "/api/v1/small");
  EXPECT_EQ(r.status, 200);  // the session sends the headers only
}

TEST_F(PipelineTest, OptionsAndCorsPreflight) {
  auto plain = Call("OPTIONS", "/api/v1/echo");
  EXPECT_EQ(plain.status, 204);
  EXPECT_EQ(plain.headers.Get("Allow").value(), "OPTIONS, POST");
  EXPECT_FALSE(plain.headers.Has("Access-Control-Allow-Origin"));

  auto ok = Call("OPTIONS", "/api/v1/echo",
                 {{"Origin", "https://allowed.example"},
                  {"Access-Control-Request-Method", "POST"},
                  {"Access-Control-Request-Headers", "content-type"}});
  EXPECT_EQ(ok.status, 204);
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Origin").value(), "https://allowed.example");
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Methods").value(), "OPTIONS, POST");
  EXPECT_EQ(ok.headers.Get("Access-Control-Allow-Headers").value(), "content-type");

  auto denied =
      Call("OPTIONS", "/api/v1/echo", {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_FALSE(denied.headers.Has("Access-Control-Allow-Origin"));
  EXPECT_FALSE(denied.headers.Has("Access-Control-Allow-Methods"));

  EXPECT_EQ(Call("OPTIONS", "/api/v1/none").status, 404);
  auto simple = Call("GET", "/api/v1/small", {{"Origin", "https://allowed.example"}});
  EXPECT_EQ(simple.headers.Get("Access-Control-Allow-Origin").value(), "https://allowed.example");
}

TEST_F(PipelineTest, UnexpectedExceptionsLeakNothing) {
  auto r = Call("GET", "/api/v1/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("SELECT"), std::string::npos);
  EXPECT_EQ(r.body.find("/srv"), std::string::npos);
  EXPECT_EQ(Body(r)["detail"], "An internal error occurred.");
}

TEST_F(PipelineTest, ValidationErrorsListFields) {
  auto r = Call("GET", "/api/v1/invalid");
  EXPECT_EQ(r.status, 422);
  auto b = Body(r);
  ASSERT_EQ(b["errors"].size(), 1u);
  EXPECT_EQ(b["errors"][0]["field"], "email");
  EXPECT_EQ(b["errors"][0]["code"], "invalid");
}

TEST_F(PipelineTest, InvalidJsonAndUtf8Are400) {
  auto json = Call("POST", "/api/v1/echo", {{"Content-Type", "application/json"}}, "{\"a\":");
  EXPECT_EQ(json.status, 400);
  EXPECT_EQ(Body(json)["errors"][0]["field"], "body");
  auto utf8 = Call("POST", "/api/v1/echo", {{"Content-Type", "application/json"}}, "{\"a\":\"\xff\xfe\"}");
  EXPECT_EQ(utf8.status, 400);
  EXPECT_EQ(Body(utf8)["errors"][0]["code"], "invalid_utf8");
  auto ok = Call("POST", "/api/v1/echo", {{"Content-Type", "application/json"}}, "{\"a\":1}");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Body(ok)["a"], 1);
}

TEST_F(PipelineTest, SecurityHeaders) {
  auto r = Call("GET", "/api/v1/small");
  EXPECT_EQ(r.headers.Get("X-Content-Type-Options").value(), "nosniff");
  EXPECT_TRUE(r.headers.Has("Referrer-Policy"));
  EXPECT_NE(r.headers.Get("Content-Security-Policy").value().find("frame-ancestors 'none'"), std::string::npos);
}

TEST_F(PipelineTest, GzipWhenAcceptedAndWorthIt) {
  auto plain = Call("GET", "/api/v1/big");
  EXPECT_FALSE(plain.headers.Has("Content-Encoding"));
  EXPECT_EQ(plain.body, BigJson());

  auto zipped = Call("GET", "/api/v1/big", {{"Accept-Encoding", "br, gzip"}});
  EXPECT_EQ(zipped.headers.Get("Content-Encoding").value(), "gzip");
  EXPECT_EQ(zipped.headers.Get("Vary").value(), "Accept-Encoding");
  EXPECT_EQ(GzipDecompress(zipped.body, 1 << 20).value(), BigJson());

  EXPECT_FALSE(Call("GET", "/api/v1/big", {{"Accept-Encoding", "gzip;q=0"}}).headers.Has("Content-Encoding"));
  EXPECT_FALSE(Call("GET", "/api/v1/small", {{"Accept-Encoding", "gzip"}}).headers.Has("Content-Encoding"));
}

TEST_F(PipelineTest, BodyLimitsPerRoute) {
  EXPECT_EQ(pipeline->BodyLimit(pipeline->Match("POST", "/api/v1/echo")), 1024u);
  EXPECT_EQ(pipeline->BodyLimit(pipeline->Match("POST", "/unknown")), 1024u);
  web::RouteOptions big;
  big.body_limit = 5000;
  router.Root().Post(
      "/api/v1/upload", [](RequestContext&) -> Task<Response> { co_return Response::Empty(204); }, big);
  EXPECT_EQ(pipeline->BodyLimit(pipeline->Match("POST", "/api/v1/upload")), 5000u);
}

TEST_F(PipelineTest, MetricsCountRequestsAndInFlightReturnsToZero) {
  Call("GET", "/api/v1/small");
  Call("GET", "/api/v1/boom");
  Call("BREW", "/nowhere");
  EXPECT_EQ(http_metrics.InFlight(), 0);
  auto text = registry.Render();
  EXPECT_NE(text.find(R"(poste_http_requests_total{route="/api/v1/small",method="GET",status="200"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(poste_http_requests_total{route="/api/v1/boom",method="GET",status="500"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(poste_http_requests_total{route="unmatched",method="OTHER",status="404"} 1)"),
            std::string::npos);
  EXPECT_NE(text.find("poste_http_request_duration_seconds_bucket"), std::string::npos);
}

TEST_F(PipelineTest, EarlyErrorsAreProblems) {
  auto r = pipeline->EarlyError(431, "The request headers are too large.", "/x?y", "");
  EXPECT_EQ(r.status, 431);
  EXPECT_EQ(Body(r)["instance"], "/x");
  EXPECT_TRUE(r.headers.Has("X-Request-Id"));
}

}  // namespace
}  // namespace poste::http
