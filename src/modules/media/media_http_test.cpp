#include "modules/media/media_http.hpp"

#include <gtest/gtest.h>

namespace poste::media {
namespace {

using Kind = RangeDecision::Kind;

void ExpectPart(const RangeDecision& d, std::uint64_t first, std::uint64_t length) {
  EXPECT_EQ(d.kind, Kind::kPart);
  EXPECT_EQ(d.first, first);
  EXPECT_EQ(d.length, length);
}

TEST(DecideRange, SingleSuffixAndOpenEnded) {
  ExpectPart(DecideRange("bytes=0-9", 100), 0, 10);
  ExpectPart(DecideRange("bytes=90-200", 100), 90, 10);  // clamped to the end
  ExpectPart(DecideRange("bytes=50-", 100), 50, 50);
  ExpectPart(DecideRange("bytes=-10", 100), 90, 10);
  ExpectPart(DecideRange("bytes=-500", 100), 0, 100);
  ExpectPart(DecideRange("bytes= 5-5 ", 100), 5, 1);
  ExpectPart(DecideRange("bytes=99-99", 100), 99, 1);
}

TEST(DecideRange, Unsatisfiable) {
  EXPECT_EQ(DecideRange("bytes=100-", 100).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(DecideRange("bytes=100-200", 100).kind, Kind::kUnsatisfiable);
  EXPECT_EQ(DecideRange("bytes=-0", 100).kind, Kind::kUnsatisfiable);
}

TEST(DecideRange, InvalidOrMultipleRangesAnswerTheWholeFile) {
  for (const char* h : {"", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-1", "items=0-1", "bytes=0-1,3-4",
                        "bytes=1-2-3", "bytes=99999999999999999999-", "bytes=--5", "bytes=+1-2"}) {
    EXPECT_EQ(DecideRange(h, 100).kind, Kind::kWhole) << h;
  }
}

TEST(EntityTags, IfNoneMatchIsWeakIfRangeIsStrong) {
  EXPECT_TRUE(NoneMatchHits("\"abc\"", "\"abc\""));
  EXPECT_TRUE(NoneMatchHits("\"x\", W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(NoneMatchHits("*", "\"abc\""));
  EXPECT_FALSE(NoneMatchHits("\"abd\"", "\"abc\""));
  EXPECT_FALSE(NoneMatchHits("", "\"abc\""));
  EXPECT_TRUE(IfRangeAllows("\"abc\"", "\"abc\""));
  EXPECT_FALSE(IfRangeAllows("W/\"abc\"", "\"abc\""));
  EXPECT_FALSE(IfRangeAllows("Wed, 21 Oct 2015 07:28:00 GMT", "\"abc\""));
}

}  // namespace
}  // namespace poste::media
