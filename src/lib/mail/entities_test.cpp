#include "lib/mail/entities.hpp"

#include <gtest/gtest.h>

#include <string>

namespace poste::mail {
namespace {

TEST(DecodeEntities, DecodesNumericAndNamedReferences) {
  EXPECT_EQ(DecodeEntities("&lt;b&gt; &amp;amp; &eacute;t&eacute; &#233; &#xE9; &#X1F600; &nbsp;&copy;"),
            "<b> &amp; été é é \xF0\x9F\x98\x80 \xC2\xA0\xC2\xA9");
  EXPECT_EQ(DecodeEntities("&unknown; & &; &#; &#xZZ; AT&T"), "&unknown; & &; &#; &#xZZ; AT&T");
  EXPECT_EQ(DecodeEntities("&#0; &#xD800; &#x110000; &#99999999999;"),
            "\xEF\xBF\xBD \xEF\xBF\xBD \xEF\xBF\xBD &#99999999999;");
}

TEST(SanitizeUtf8, ReplacesEachInvalidSequence) {
  EXPECT_EQ(SanitizeUtf8("ok é \xF0\x9F\x98\x80"), "ok é \xF0\x9F\x98\x80");
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                                  // overlong '/'
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");                  // a surrogate
  EXPECT_EQ(SanitizeUtf8("\xF4\x90\x80\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // > U+10FFFF
}

TEST(SanitizeUtf8, KeepsValidRunsAroundEachReplacement) {
  EXPECT_EQ(SanitizeUtf8(""), "");
  EXPECT_EQ(SanitizeUtf8("\xff"), "\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUtf8("\xff"
                         "ab\xfe"),
            "\xEF\xBF\xBD"
            "ab"
            "\xEF\xBF\xBD");
  EXPECT_EQ(SanitizeUtf8("é\xc3"), "é\xEF\xBF\xBD");                  // cut at the end
  EXPECT_EQ(SanitizeUtf8("\xe2\x82€"), "\xEF\xBF\xBD\xEF\xBF\xBD€");  // cut, then a whole one
  const std::string long_valid = std::string(5000, 'x') + "日本語" + std::string(5000, 'y');
  EXPECT_EQ(SanitizeUtf8(long_valid), long_valid);
}

TEST(ToLf, TurnsEachLineEndIntoOneLf) {
  EXPECT_EQ(ToLf(""), "");
  EXPECT_EQ(ToLf("no line end"), "no line end");
  EXPECT_EQ(ToLf("a\r\nb\rc\nd"), "a\nb\nc\nd");
  EXPECT_EQ(ToLf("\r\r\n\n\r"), "\n\n\n\n");
  EXPECT_EQ(ToLf("end\r"), "end\n");
  EXPECT_EQ(ToLf(std::string(3000, '\r')), std::string(3000, '\n'));
}

}  // namespace
}  // namespace poste::mail
