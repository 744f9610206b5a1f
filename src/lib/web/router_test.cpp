#include "lib/web/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "support/run_task.hpp"

namespace poste::web {
namespace {

Handler Named(std::string name) {
  return [name](RequestContext&) -> Task<Response> { co_return Response::Text(200, name); };
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto api = router.Group("/api/v1");
    api.Get("/sites", Named("list"));
    api.Post("/sites", Named("create"));
    api.Get("/sites/new", Named("new"));
    api.Get("/sites/{site}", Named("get"));
    api.Delete("/sites/{site}", Named("delete"));
    api.Get("/sites/{site}/pages/{page}", Named("page"));
  }
  Router router;
};

TEST_F(RouterTest, MatchesStaticAndParamSegments) {
  auto m = router.Find("GET", "/api/v1/sites/abc");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/api/v1/sites/{site}");
  EXPECT_EQ(m.params.at("site"), "abc");

  auto p = router.Find("GET", "/api/v1/sites/abc/pages/home");
  ASSERT_EQ(p.kind, Match::Kind::kFound);
  EXPECT_EQ(p.params.at("site"), "abc");
  EXPECT_EQ(p.params.at("page"), "home");
}

TEST_F(RouterTest, StaticSegmentWinsOverParameter) {
  auto m = router.Find("GET", "/api/v1/sites/new");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.route->pattern, "/api/v1/sites/new");
  EXPECT_TRUE(m.params.empty());
}

TEST_F(RouterTest, BacktracksFromStaticToParameter) {
  // "new" matches the static child, which has no "pages" below it: the parameter branch must be tried.
  auto m = router.Find("GET", "/api/v1/sites/new/pages/x");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.params.at("site"), "new");
}

TEST_F(RouterTest, NotFoundVersusMethodNotAllowed) {
  EXPECT_EQ(router.Find("GET", "/api/v1/nothing").kind, Match::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "/api/v1/sites/a/b").kind, Match::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "").kind, Match::Kind::kNotFound);
  EXPECT_EQ(router.Find("GET", "no-slash").kind, Match::Kind::kNotFound);
  auto m = router.Find("PUT", "/api/v1/sites/abc");
  ASSERT_EQ(m.kind, Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allowed, (std::vector<std::string>{"DELETE", "GET", "HEAD", "OPTIONS"}));
}

TEST_F(RouterTest, HeadMatchesGet) {
  auto m = router.Find("HEAD", "/api/v1/sites");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.route->method, "GET");
}

TEST_F(RouterTest, EmptySegmentDoesNotMatchParameter) {
  EXPECT_EQ(router.Find("GET", "/api/v1/sites//pages/x").kind, Match::Kind::kNotFound);
}

TEST_F(RouterTest, ParametersArePercentDecoded) {
  auto m = router.Find("GET", "/api/v1/sites/caf%C3%A9");
  ASSERT_EQ(m.kind, Match::Kind::kFound);
  EXPECT_EQ(m.params.at("site"), "caf\xC3\xA9");
  EXPECT_EQ(router.Find("GET", "/api/v1/sites/%zz").kind, Match::Kind::kBadPath);
  EXPECT_EQ(router.Find("GET", "/api/v1/sites/%4").kind, Match::Kind::kBadPath);
}

TEST_F(RouterTest, RejectsDuplicatesAndMalformedPatterns) {
  EXPECT_THROW(router.Root().Get("/api/v1/sites", Named("again")), std::invalid_argument);
  EXPECT_THROW(router.Root().Get("relative", Named("x")), std::invalid_argument);
  EXPECT_THROW(router.Root().Get("/api/v1/sites/{other}", Named("x")), std::invalid_argument);
  EXPECT_THROW(router.Root().Get("/a{b}", Named("x")), std::invalid_argument);
}

TEST(RouterChain, MiddlewareRunsOutermostFirstAndCanShortCircuit) {
  Router router;
  std::vector<std::string> order;
  auto record = [&order](std::string name) -> Middleware {
    return [&order, name](RequestContext& ctx, const Next& next) -> Task<Response> {
      order.push_back(name);
      co_return co_await next(ctx);
    };
  };
  Middleware deny = [](RequestContext&, const Next&) -> Task<Response> { co_return Response::Empty(401); };
  auto group = router.Group("/g", {record("group")});
  group.Get("/ok", Named("ok"), {}, {record("route")});
  group.Get("/denied", Named("never"), {}, {deny});
  Request request;
  for (auto path : {"/g/ok", "/g/denied"}) {
    auto match = router.Find("GET", path);
    ASSERT_EQ(match.kind, Match::Kind::kFound);
    RequestContext ctx{request, {}, {}, {}, std::nullopt, 0};
    auto response = testing::RunTask(match.route->handler(ctx));
    if (std::string_view(path) == "/g/ok") {
      EXPECT_EQ(response.status, 200);
      EXPECT_EQ(response.body, "ok");
    } else {
      EXPECT_EQ(response.status, 401);
    }
  }
  EXPECT_EQ(order, (std::vector<std::string>{"group", "route", "group"}));
  EXPECT_EQ(router.AllowedMethods("/g/ok"), (std::vector<std::string>{"GET", "HEAD", "OPTIONS"}));
  EXPECT_TRUE(router.AllowedMethods("/g/none").empty());
}

}  // namespace
}  // namespace poste::web
