#include "modules/media/media_names.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace poste::media {
namespace {

TEST(MediaNames, StoredNamesComeFromIdAndHash) {
  const std::string sha(64, 'a');
  EXPECT_EQ(StoredFileName(12, sha, "jpg"), "12-" + std::string(32, 'a') + ".jpg");
  EXPECT_EQ(VariantFileName(12, sha, 320), "12-" + std::string(32, 'a') + "-320.webp");
  EXPECT_EQ(FileUrl(3, "x.png"), "/media/3/x.png");
}

TEST(MediaNames, ParseServedNameAcceptsOnlyStoredNames) {
  const std::string h(32, 'b');
  auto p = ParseServedName("7-" + h + ".png");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->id, 7);
  EXPECT_EQ(p->hash, h);
  EXPECT_FALSE(p->width);
  EXPECT_EQ(p->ext, "png");
  auto v = ParseServedName("7-" + h + "-768.webp");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->width, 768);
  for (const std::string& bad : std::vector<std::string>{
           ".upload-abc123", "7-" + h, "7-" + h + ".", "07-" + h + ".png", "0-" + h + ".png", "-" + h + ".png",
           "7-" + std::string(31, 'b') + ".png", "7-" + std::string(32, 'B') + ".png", "7-" + h + "-500.webp",
           "7-" + h + "-320.png", "7-" + h + "-0320.webp", "7-" + h + "x.png", "7-" + h + ".PHP", "7-" + h + ".toolong",
           "../7-" + h + ".png", "7-" + h + ".png/..", "x7-" + h + ".png", "99999999999999999999-" + h + ".png"}) {
    EXPECT_FALSE(ParseServedName(bad)) << bad;
  }
}

TEST(MediaNames, PathTraversalKeepsOnlyTheLastComponent) {
  EXPECT_EQ(SanitizeFilename("../../etc/passwd").name, "passwd");
  EXPECT_EQ(SanitizeFilename("..\\..\\windows\\win.ini").name, "win.ini");
  EXPECT_EQ(SanitizeFilename("/abs/path/photo.JPG").name, "photo.JPG");
  EXPECT_EQ(SanitizeFilename("/abs/path/photo.JPG").ext, "jpg");
  EXPECT_EQ(SanitizeFilename("..").name, "");
  EXPECT_EQ(SanitizeFilename("...").name, "");
  EXPECT_EQ(SanitizeFilename("a/").name, "");
  EXPECT_EQ(SanitizeFilename(".htaccess").name, "htaccess") << "no hidden files";
}

TEST(MediaNames, ControlBidiAndReservedCharacters) {
  EXPECT_EQ(SanitizeFilename("a\r\nb\x01.png").name, "ab.png");
  // "photo<U+202E>gnp.exe" displays as "photoexe.png".
  auto bidi = SanitizeFilename("photo\xE2\x80\xAEgnp.exe");
  EXPECT_EQ(bidi.name, "photognp.exe");
  EXPECT_EQ(bidi.ext, "exe");
  EXPECT_EQ(SanitizeFilename("zero\xE2\x80\x8Bwidth.pdf").name, "zerowidth.pdf");
  EXPECT_EQ(SanitizeFilename("a<b>:c|d?e*\"f.pdf").name, "a_b__c_d_e__f.pdf");
  EXPECT_EQ(SanitizeFilename("  trailing. . ").name, "trailing");
}

TEST(MediaNames, UnicodeIsNormalisedAndInvalidBytesReplaced) {
  // "e" + combining acute (NFD) becomes "é" (NFC).
  EXPECT_EQ(SanitizeFilename("caf\x65\xCC\x81.jpg").name, "caf\xC3\xA9.jpg");
  auto invalid = SanitizeFilename("bad\xFF\xFEname.png");
  EXPECT_EQ(invalid.ext, "png");
  EXPECT_NE(invalid.name.find("bad"), std::string::npos);
  EXPECT_EQ(invalid.name.find('\xFF'), std::string::npos);
}

TEST(MediaNames, LongNamesKeepTheirExtension) {
  std::string long_name;
  for (int i = 0; i < 200; ++i) long_name += "\xC3\xA9";  // 400 bytes of "é"
  auto clean = SanitizeFilename(long_name + ".jpeg");
  EXPECT_LE(clean.name.size(), 255u);
  EXPECT_TRUE(clean.name.ends_with(".jpeg"));
  EXPECT_EQ(clean.ext, "jpeg");
  EXPECT_EQ((static_cast<unsigned char>(clean.name[clean.name.size() - 6]) & 0xC0), 0x80)
      << "cut at a code point boundary: the byte before .jpeg ends a 2-byte sequence";
}

TEST(MediaNames, InnerExtensionsAreListed) {
  auto clean = SanitizeFilename("x.PHP.tar.jpg");
  EXPECT_EQ(clean.ext, "jpg");
  EXPECT_EQ(clean.inner_exts, (std::vector<std::string>{"php", "tar"}));
  EXPECT_TRUE(IsDangerousExtension("php"));
  EXPECT_TRUE(IsDangerousExtension("phtml"));
  EXPECT_FALSE(IsDangerousExtension("tar"));
  EXPECT_TRUE(SanitizeFilename("noext").ext.empty());
}

}  // namespace
}  // namespace poste::media
