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

TEST(RouteHelpers, SearchQueryIsOneLineOfBoundedUtf8) {
  Request request;
  request.query = "q=caf%C3%A9%20cr%C3%A8me&other=1";
  EXPECT_EQ(SearchQuery(request, 200), "caf\xC3\xA9 cr\xC3\xA8me");
  request.query = "other=1";
  EXPECT_FALSE(SearchQuery(request, 200));
  request.query = "q=";
  EXPECT_EQ(SearchQuery(request, 200), "");
  request.query = "q=%25%27%20OR%201%3D1%20--%3Cscript%3E";  // SQL and HTML are just text
  EXPECT_EQ(SearchQuery(request, 200), "%' OR 1=1 --<script>");
  request.query = "term=" + std::string(5, 'x');
  EXPECT_EQ(SearchQuery(request, 5, "term"), "xxxxx");
  request.query = "q=%C3%A9%C3%A9%C3%A9";  // three characters, six bytes
  EXPECT_EQ(SearchQuery(request, 3), "\xC3\xA9\xC3\xA9\xC3\xA9");
  for (const std::string& bad :
       {std::string("q=a%0Db"), std::string("q=a%0Ab"), std::string("q=a%00b"), std::string("q=%FF%FE"),
        std::string("q=%C3"), std::string("q=") + std::string(4, 'x'), std::string("q=%E2%80%A8")}) {
    request.query = bad;
    try {
      SearchQuery(request, 3);
      ADD_FAILURE() << "accepted: " << bad;
    } catch (const AppError& e) {
      EXPECT_EQ(e.status(), 400) << bad;
      ASSERT_EQ(e.fields().size(), 1u);
      EXPECT_EQ(e.fields()[0].field, "q");
      EXPECT_EQ(e.fields()[0].message, "at most 3 characters of UTF-8 text on one line");
    }
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
