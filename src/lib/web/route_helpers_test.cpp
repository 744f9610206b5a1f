#include "lib/web/route_helpers.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/error.hpp"

namespace poste::web {
namespace {

std::int64_t IdOf(const std::string& text) {
  Request request;
  RequestContext ctx{request, {{"id", text}}, {}, {}, std::nullopt, 0};
  return PathId(ctx, "id", "thing");
}

TEST(RouteHelpers, PathIdAcceptsPositiveIdsOnly) {
  EXPECT_EQ(IdOf("1"), 1);
  EXPECT_EQ(IdOf("000042"), 42);
  EXPECT_EQ(IdOf("999999999999999999"), 999999999999999999);
  for (const std::string& bad :
       std::vector<std::string>{"", "0", "-1", "+1", " 1", "1 ", "1.0", "0x10", "1e3", "abc", "1;DROP TABLE x",
                                "9999999999999999999", std::string(1000, '9'), std::string("1\0", 2), "１"}) {
    try {
      IdOf(bad);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const AppError& e) {
      EXPECT_EQ(e.status(), 404) << bad;
      EXPECT_EQ(e.message(), "No such thing.");
    }
  }
}

TEST(RouteHelpers, SiteIdWithoutTheMiddlewareIsAWiringError) {
  Request request;
  RequestContext ctx{request, {}, {}, {}, std::nullopt, 0};
  EXPECT_THROW(SiteId(ctx), AppError);
  ctx.site_id = 7;
  EXPECT_EQ(SiteId(ctx), 7);
}

TEST(RouteHelpers, ObjectBodyRefusesOtherJson) {
  Request request;
  request.headers.Set("Content-Type", "application/json");
  request.body = R"({"a":1})";
  EXPECT_EQ(ObjectBody(request)["a"], 1);
  for (const char* bad : {"[1]", "\"x\"", "3", "null"}) {
    request.body = bad;
    EXPECT_THROW(ObjectBody(request), AppError) << bad;
  }
}

TEST(RouteHelpers, DumpReplacesInvalidUtf8AndConcatKeepsOrder) {
  EXPECT_EQ(Dump(nlohmann::json{{"k", std::string("a\xff")}}), "{\"k\":\"a\xef\xbf\xbd\"}");
  int calls = 0;
  Middleware m = [&calls](RequestContext& c, const Next& n) -> Task<Response> {
    ++calls;
    co_return co_await n(c);
  };
  EXPECT_EQ(Concat({m}, {m, m}).size(), 3u);
}

}  // namespace
}  // namespace poste::web
