#include "lib/validate/slug.hpp"

#include <gtest/gtest.h>

#include <string>

namespace poste::validate {
namespace {

using namespace std::string_literals;

TEST(IsValidSlug, FollowsThePattern) {
  for (const char* s : {"a", "0", "about", "my-first-post", "2024-recap", "a-b-c-1-2-3"}) {
    EXPECT_TRUE(IsValidSlug(s)) << s;
  }
  for (const char* s : {"", "-", "-a", "a-", "a--b", "About", "my_post", "my post", "my.post", "café", "a/b", "../etc",
                        "a\nb", "<b>", "x';--", "%20"}) {
    EXPECT_FALSE(IsValidSlug(s)) << s;
  }
  EXPECT_FALSE(IsValidSlug("a\0b"s));
  EXPECT_TRUE(IsValidSlug(std::string(64, 'a')));
  EXPECT_FALSE(IsValidSlug(std::string(65, 'a')));
}

TEST(Slugify, LowersAndSeparates) {
  EXPECT_EQ(Slugify("Hello, World!"), "hello-world");
  EXPECT_EQ(Slugify("  --Already--a--slug--  "), "already-a-slug");
  EXPECT_EQ(Slugify("Top 10 Tips (2024 edition)"), "top-10-tips-2024-edition");
  EXPECT_EQ(Slugify("snake_case and.dots/and\\slashes"), "snake-case-and-dots-and-slashes");
  EXPECT_EQ(Slugify("Don't panic"), "don-t-panic");
  EXPECT_EQ(Slugify(""), "");
  EXPECT_EQ(Slugify("!!!"), "");
}

TEST(Slugify, FoldsLatinAccents) {
  EXPECT_EQ(Slugify("Café crème brûlée"), "cafe-creme-brulee");
  EXPECT_EQ(Slugify("Straße"), "strasse");
  EXPECT_EQ(Slugify("Façade"), "facade");
  EXPECT_EQ(Slugify("Ærøskøbing"), "aeroskobing");
  EXPECT_EQ(Slugify("Œuvre complète"), "oeuvre-complete");
  EXPECT_EQ(Slugify("ÀÉÎÕÜ àéîõü ÿ Ÿ"), "aeiou-aeiou-y-y");
  EXPECT_EQ(Slugify("Łódź Kraków Gdańsk"), "lodz-krakow-gdansk");
  EXPECT_EQ(Slugify("Dvořák Čapek Šťastný"), "dvorak-capek-stastny");
  EXPECT_EQ(Slugify("Þór Eiríksson"), "thor-eiriksson");
  EXPECT_EQ(Slugify("Timișoara Constanța"), "timisoara-constanta");  // Romanian comma-below letters
  EXPECT_EQ(Slugify("Ĳssel İstanbul"), "ijssel-istanbul");
  EXPECT_EQ(Slugify("e\xcc\x81te\xcc\x81"), "ete");  // decomposed accents (NFD) are dropped
  EXPECT_EQ(Slugify("2 × 3 ÷ 4"), "2-3-4");
}

TEST(Slugify, OtherScriptsAndSymbolsBecomeSeparators) {
  EXPECT_EQ(Slugify("Tokyo 東京 2024"), "tokyo-2024");
  EXPECT_EQ(Slugify("東京"), "");
  EXPECT_EQ(Slugify("Price: 10€ 😀 ok"), "price-10-ok");
  EXPECT_EQ(Slugify("<script>alert('x')</script>"), "script-alert-x-script");
  EXPECT_EQ(Slugify("'; DROP TABLE posts; --"), "drop-table-posts");
  EXPECT_EQ(Slugify("../../etc/passwd"), "etc-passwd");
  EXPECT_EQ(Slugify("line\r\nbreak\0nul"s), "line-break-nul");
}

TEST(Slugify, InvalidUtf8NeverBecomesALetter) {
  EXPECT_EQ(Slugify("caf\xe9"), "caf");  // Latin-1 é is not UTF-8
  EXPECT_EQ(Slugify("a\xc3\x28"
                    "b"),
            "a-b");                          // a lead byte without its continuation
  EXPECT_EQ(Slugify("\xc0\xa9x"), "x");      // overlong © is not ©
  EXPECT_EQ(Slugify("\xed\xa0\x80z"), "z");  // a surrogate
  EXPECT_EQ(Slugify("x\xf0\x9f\x98"), "x");  // cut short at the end
  EXPECT_EQ(Slugify("\xc3"), "");
}

TEST(Slugify, CutsAt64OnAWordBoundary) {
  std::string title;
  for (int i = 0; i < 20; ++i) title += "word" + std::to_string(i) + " ";
  auto slug = Slugify(title);
  EXPECT_LE(slug.size(), kMaxSlug);
  EXPECT_TRUE(IsValidSlug(slug)) << slug;
  EXPECT_EQ(slug, "word0-word1-word2-word3-word4-word5-word6-word7-word8-word9");
  EXPECT_EQ(Slugify(std::string(100, 'a')), std::string(64, 'a'));  // one long word is cut inside
  EXPECT_EQ(Slugify(std::string(63, 'b') + " c"), std::string(63, 'b'));
  EXPECT_EQ(Slugify(std::string(62, 'b') + " c"), std::string(62, 'b') + "-c");
  EXPECT_EQ(Slugify(std::string(63, 'b') + "ß"), std::string(63, 'b') + "s");  // a fold cut in half
}

TEST(Slugify, HugeInputsStayBounded) {
  std::string big;
  for (int i = 0; i < 1000; ++i) big += "Ünïcödé 東京 ";
  auto slug = Slugify(big);
  EXPECT_LE(slug.size(), kMaxSlug);
  EXPECT_TRUE(IsValidSlug(slug));
  EXPECT_EQ(Slugify(std::string(10'000, '-') + "x" + std::string(10'000, '!')), "x");
}

TEST(Slugify, ResultsAreValidSlugsOrEmpty) {
  for (const char* t : {"Hello", "--", "a - b", "Ça va ?", "   ", "x_y_z", "A.B.C.", "ß", "日本", "9 lives"}) {
    auto slug = Slugify(t);
    EXPECT_TRUE(slug.empty() || IsValidSlug(slug)) << t << " -> " << slug;
  }
}

}  // namespace
}  // namespace poste::validate
