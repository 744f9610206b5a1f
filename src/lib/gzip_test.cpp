#include "lib/gzip.hpp"

#include <gtest/gtest.h>

#include "lib/ids.hpp"

namespace poste {
namespace {

TEST(Gzip, RoundTrips) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "{\"id\":" + std::to_string(i) + ",\"name\":\"entry\"},";
  auto packed = GzipCompress(text);
  EXPECT_LT(packed.size(), text.size() / 4);
  ASSERT_GE(packed.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(packed[0]), 0x1f);  // gzip magic
  EXPECT_EQ(static_cast<unsigned char>(packed[1]), 0x8b);
  EXPECT_EQ(GzipDecompress(packed, text.size()).value(), text);
  EXPECT_EQ(GzipDecompress(GzipCompress(""), 10).value(), "");
}

TEST(Gzip, RejectsCorruptTruncatedAndOversized) {
  auto packed = GzipCompress(std::string(100000, 'a'));
  EXPECT_FALSE(GzipDecompress("not gzip at all", 1000));
  EXPECT_FALSE(GzipDecompress(packed.substr(0, packed.size() / 2), 1000000));
  EXPECT_FALSE(GzipDecompress(packed, 1000));  // a bomb stops at the limit
}

TEST(Ids, RandomHexAndRequestIds) {
  auto a = RandomHex(8), b = RandomHex(8);
  EXPECT_EQ(a.size(), 16u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_TRUE(IsWellFormedRequestId("abc-123_X.y:z"));
  EXPECT_FALSE(IsWellFormedRequestId(""));
  EXPECT_FALSE(IsWellFormedRequestId("has space"));
  EXPECT_FALSE(IsWellFormedRequestId("new\nline"));
  EXPECT_FALSE(IsWellFormedRequestId(std::string(129, 'a')));
  EXPECT_TRUE(IsWellFormedRequestId(std::string(128, 'a')));
}

}  // namespace
TEST(AcceptsGzip, ParsesQValues) {
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_TRUE(AcceptsGzip("gzip;q=1.000"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0.000"));
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
  EXPECT_FALSE(AcceptsGzip("*, gzip;q=0"));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_FALSE(AcceptsGzip("br, identity"));
  EXPECT_FALSE(AcceptsGzip("gzipx"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=2"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=abc"));
}

}  // namespace poste
