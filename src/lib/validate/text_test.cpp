#include "lib/validate/text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

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

// A decoder written from the Unicode table (3-7), one code point at a time: what IsValidUtf8 must agree with.
bool DecodesAsUtf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t n = c < 0x80                 ? 1
                    : c >= 0xc2 && c <= 0xdf ? 2
                    : c >= 0xe0 && c <= 0xef ? 3
                    : c >= 0xf0 && c <= 0xf4 ? 4
                                             : 0;
    if (n == 0 || i + n > text.size()) return false;
    std::uint32_t cp = n == 1 ? c : c & (0xff >> (n + 1));
    for (std::size_t k = 1; k < n; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = cp << 6 | (b & 0x3f);
    }
    const std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < smallest[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n;
  }
  return true;
}

TEST(IsValidUtf8, AgreesWithADecoderWhereverTheBadByteFalls) {
  // The check takes eight ASCII bytes at a time: a bad or multi-byte sequence at every offset of a block,
  // and cut by the end of the text.
  const std::vector<std::string> sequences = {
      "é",    "€",    "😀",        "\xc3",         "\xe2\x82",         "\xf0\x9f\x98",
      "\x80", "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x9f\xbf"};
  for (const auto& sequence : sequences) {
    for (std::size_t before = 0; before < 20; ++before) {
      for (std::size_t after = 0; after < 10; ++after) {
        const std::string text = std::string(before, 'a') + sequence + std::string(after, 'b');
        EXPECT_EQ(IsValidUtf8(text), DecodesAsUtf8(text)) << before << " " << sequence << " " << after;
      }
    }
  }
  std::mt19937 rng(3);
  for (int i = 0; i < 50000; ++i) {
    std::string text;
    for (std::size_t k = rng() % 40; k > 0; --k) {
      text += rng() % 3 == 0 ? static_cast<char>(0x80 + rng() % 0x80) : static_cast<char>(rng() % 0x80);
    }
    ASSERT_EQ(IsValidUtf8(text), DecodesAsUtf8(text)) << ::testing::PrintToString(text);
  }
}

TEST(Utf8SequenceLength, MeasuresOneWellFormedSequence) {
  EXPECT_EQ(Utf8SequenceLength("a", 0), 0u);
  EXPECT_EQ(Utf8SequenceLength("é!", 0), 2u);
  EXPECT_EQ(Utf8SequenceLength("x€", 1), 3u);
  EXPECT_EQ(Utf8SequenceLength("😀", 0), 4u);
  EXPECT_EQ(Utf8SequenceLength("😀", 1), 0u);  // a continuation byte starts nothing
  EXPECT_EQ(Utf8SequenceLength("\xe2\x82", 0), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xed\xa0\x80", 0), 0u);
  EXPECT_EQ(Utf8SequenceLength("\xc1\xbf", 0), 0u);
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
