#include "lib/web/message.hpp"

#include <gtest/gtest.h>

namespace poste::web {
namespace {

TEST(Headers, CaseInsensitiveGetSetRemove) {
  Headers h;
  h.Add("Content-Type", "a");
  h.Add("X-Multi", "1");
  h.Add("x-multi", "2");
  EXPECT_EQ(h.Get("content-type").value(), "a");
  h.Set("CONTENT-TYPE", "b");
  EXPECT_EQ(h.Get("Content-Type").value(), "b");
  h.Remove("X-MULTI");
  EXPECT_FALSE(h.Has("x-multi"));
  EXPECT_EQ(h.All().size(), 1u);
}

TEST(Target, SplitsPathAndQuery) {
  std::string path, query;
  SplitTarget("/a/b?x=1&y=2", path, query);
  EXPECT_EQ(path, "/a/b");
  EXPECT_EQ(query, "x=1&y=2");
  SplitTarget("/only", path, query);
  EXPECT_EQ(path, "/only");
  EXPECT_EQ(query, "");
}

TEST(PercentDecode, DecodesAndRejectsMalformed) {
  EXPECT_EQ(PercentDecode("a%20b").value(), "a b");
  EXPECT_EQ(PercentDecode("a+b", true).value(), "a b");
  EXPECT_EQ(PercentDecode("a+b", false).value(), "a+b");
  EXPECT_FALSE(PercentDecode("%"));
  EXPECT_FALSE(PercentDecode("%4"));
  EXPECT_FALSE(PercentDecode("%g0"));
  EXPECT_EQ(PercentDecode("%00").value(), std::string(1, '\0'));
}

TEST(Request, QueryParam) {
  Request r;
  r.query = "limit=10&q=caf%C3%A9+bar&flag&bad=%zz";
  EXPECT_EQ(r.QueryParam("limit").value(), "10");
  EXPECT_EQ(r.QueryParam("q").value(), "caf\xC3\xA9 bar");
  EXPECT_EQ(r.QueryParam("flag").value(), "");
  EXPECT_FALSE(r.QueryParam("missing"));
  EXPECT_FALSE(r.QueryParam("bad"));
}

}  // namespace
}  // namespace poste::web
