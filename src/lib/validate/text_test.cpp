#include "lib/validate/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace poste::validate {
namespace {

using namespace std::string_literals;

TEST(IsValidUtf8, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ASCII, with <html> & 'quotes'; DROP TABLE users; --"));
  EXPECT_TRUE(IsValidUtf8("café naïve Ærø ß"));
  EXPECT_TRUE(IsValidUtf8("日本語 한국어 العربية"));
  EXPECT_TRUE(IsValidUtf8("emoji 😀 and 𝄞"));
  EXPECT_TRUE(IsValidUtf8("\x7f"));
  EXPECT_TRUE(IsValidUtf8("nul \0 inside"s));  // valid UTF-8; HasControlChars refuses it
  // Boundaries: the first and last code point of each length, and the ones around the surrogates.
  EXPECT_TRUE(IsValidUtf8("\xc2\x80"));          // U+0080
  EXPECT_TRUE(IsValidUtf8("\xdf\xbf"));          // U+07FF
  EXPECT_TRUE(IsValidUtf8("\xe0\xa0\x80"));      // U+0800
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));      // U+D7FF
  EXPECT_TRUE(IsValidUtf8("\xee\x80\x80"));      // U+E000
  EXPECT_TRUE(IsValidUtf8("\xef\xbf\xbf"));      // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xf0\x90\x80\x80"));  // U+10000
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
}

TEST(IsValidUtf8, RejectsOverlongEncodings) {
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));  // '/' in two bytes: the classic path-traversal trick
  EXPECT_FALSE(IsValidUtf8("\xc0\x80"));  // NUL in two bytes (Java's "modified UTF-8")
  EXPECT_FALSE(IsValidUtf8("\xc1\xbf"));
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));          // '/' in three bytes
  EXPECT_FALSE(IsValidUtf8("\xe0\x9f\xbf"));          // U+07FF in three bytes
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));      // '/' in four bytes
  EXPECT_FALSE(IsValidUtf8("\xf0\x8f\xbf\xbf"));      // U+FFFF in four bytes
  EXPECT_FALSE(IsValidUtf8("\xf8\x80\x80\x80\xaf"));  // five-byte forms do not exist
  EXPECT_FALSE(IsValidUtf8("\xfc\x80\x80\x80\x80\xaf"));
}

TEST(IsValidUtf8, RejectsSurrogatesAndOutOfRange) {
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));              // U+D800
  EXPECT_FALSE(IsValidUtf8("\xed\xbf\xbf"));              // U+DFFF
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\xbd\xed\xb8\x80"));  // a CESU-8 surrogate pair for U+1F600
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));          // U+110000
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xfe\xff"));  // a UTF-16 byte-order mark is not UTF-8
}

TEST(IsValidUtf8, RejectsTruncatedAndStrayBytes) {
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("abc\xbf"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));          // é cut after its first byte
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));      // € cut short
  EXPECT_FALSE(IsValidUtf8("\xf0\x9f\x98"));  // 😀 cut short
  EXPECT_FALSE(IsValidUtf8("\xe2\x28\xa1"));  // a non-continuation in the middle
  EXPECT_FALSE(IsValidUtf8("\xc3\xa9\xa9"));  // one continuation too many
  EXPECT_FALSE(IsValidUtf8("caf\xe9"));       // Latin-1, not UTF-8
  std::string big(10'000, 'a');
  EXPECT_TRUE(IsValidUtf8(big));
  big[9'999] = '\xc3';
  EXPECT_FALSE(IsValidUtf8(big));
}

TEST(HasControlChars, SingleLineFieldsRefuseEveryControl) {
  EXPECT_FALSE(HasControlChars("", false));
  EXPECT_FALSE(HasControlChars("Jean-Luc O'Brien <b>bold</b> ; DROP TABLE x; -- é 日本", false));
  EXPECT_TRUE(HasControlChars("a\nb", false));
  EXPECT_TRUE(HasControlChars("a\rb", false));
  EXPECT_TRUE(HasControlChars("Subject\r\nBcc: victim@example.com", false));
  EXPECT_TRUE(HasControlChars("tab\there", false));
  EXPECT_TRUE(HasControlChars("nul\0"s, false));
  EXPECT_TRUE(HasControlChars("\x1b[31mred", false));  // terminal escapes in logs
  EXPECT_TRUE(HasControlChars("del\x7f", false));
  EXPECT_TRUE(HasControlChars("c1 \xc2\x85 next-line", false));  // U+0085 NEL
  EXPECT_TRUE(HasControlChars("c1 \xc2\x9b csi", false));
  EXPECT_TRUE(HasControlChars("line\xe2\x80\xa8sep", false));  // U+2028
  EXPECT_TRUE(HasControlChars("para\xe2\x80\xa9sep", false));  // U+2029
  EXPECT_FALSE(HasControlChars("\xc2\xa0 no-break space and \xe2\x80\xa6 ellipsis", false));
}

TEST(HasControlChars, MultiLineFieldsAllowLineBreaksAndTabsOnly) {
  EXPECT_FALSE(HasControlChars("line one\r\nline two\n\tindented", true));
  EXPECT_FALSE(HasControlChars("line\xe2\x80\xa8sep", true));
  EXPECT_TRUE(HasControlChars("nul\0"s, true));
  EXPECT_TRUE(HasControlChars("bell\a", true));
  EXPECT_TRUE(HasControlChars("\x1b[2J", true));
  EXPECT_TRUE(HasControlChars("\xc2\x85", true));
  EXPECT_TRUE(HasControlChars("form\ffeed", true));
}

TEST(HasControlChars, CutSequencesAtTheEndAreNotReadPast) {
  EXPECT_FALSE(HasControlChars("\xc2", false));
  EXPECT_FALSE(HasControlChars("\xe2\x80", false));
  std::string big(10'000, 'x');
  EXPECT_FALSE(HasControlChars(big, false));
  big[5'000] = '\r';
  EXPECT_TRUE(HasControlChars(big, false));
}

TEST(Utf8Length, CountsCodePoints) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("café"), 4u);
  EXPECT_EQ(Utf8Length("日本語"), 3u);
  EXPECT_EQ(Utf8Length("😀😀"), 2u);
  EXPECT_EQ(Utf8Length("e\xcc\x81"), 2u);  // e + combining acute: two code points
  EXPECT_EQ(Utf8Length(std::string(10'000, 'a')), 10'000u);
  // Invalid input never counts more characters than bytes.
  EXPECT_EQ(Utf8Length("\x80\x80\x80"), 0u);
  EXPECT_EQ(Utf8Length("\xff\xff"), 2u);
}

TEST(Utf8Prefix, CutsOnlyBetweenCharacters) {
  EXPECT_EQ(Utf8Prefix("abc", 5), "abc");
  EXPECT_EQ(Utf8Prefix("abc", 2), "ab");
  EXPECT_EQ(Utf8Prefix("a\xC3\xA9", 2), "a");  // é would be cut
  EXPECT_EQ(Utf8Prefix("a\xC3\xA9", 3), "a\xC3\xA9");
  EXPECT_EQ(Utf8Prefix("\xF0\x9F\x98\x80x", 3), "");  // a 4-byte character
  EXPECT_EQ(Utf8Prefix("\xE4\xB8\xAD\xE4\xB8\xAD", 4), "\xE4\xB8\xAD");
  EXPECT_EQ(Utf8Prefix("", 0), "");
  const std::string long_name(300, 'x');
  EXPECT_TRUE(IsValidUtf8(Utf8Prefix(long_name + "\xC3\xA9", 301)));
}

}  // namespace
}  // namespace poste::validate
