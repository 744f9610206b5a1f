#include "modules/media/media_files.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "modules/media/media_types.hpp"

namespace poste::media::files {
namespace {

class MediaFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("poste-media-files-" + std::to_string(::getpid()))).string();
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string dir_;
};

TEST_F(MediaFilesTest, SniffsTheContentNotTheName) {
  EXPECT_EQ(SniffMime(Write("a.jpg", "%PDF-1.4\n%%EOF\n")), "application/pdf");
  EXPECT_EQ(SniffMime(Write("b.pdf", EncodeTestImage(4, 4, ".png"))), "image/png");
  EXPECT_EQ(SniffMime(Write("c.png", "<?php echo 1;")), "text/x-php");
  EXPECT_EQ(TypeForSniffed(SniffMime(Write("d", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>")))->content_type,
            "image/svg+xml");
  for (const char* suffix : {".jpg", ".png", ".webp", ".gif"}) {
    const MediaType* type = TypeForSniffed(SniffMime(Write(std::string("e") + suffix, EncodeTestImage(8, 6, suffix))));
    ASSERT_NE(type, nullptr) << suffix;
    EXPECT_TRUE(type->raster) << suffix;
  }
}

TEST_F(MediaFilesTest, ImageSizeNeedsTheRightLoader) {
  auto png = Write("a.png", EncodeTestImage(30, 20, ".png"));
  auto size = ReadImageSize(png, "image/png");
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 30);
  EXPECT_EQ(size->height, 20);
  EXPECT_FALSE(ReadImageSize(png, "image/jpeg")) << "a PNG is not read as a JPEG";
  EXPECT_FALSE(ReadImageSize(Write("b.png", "\x89PNG\r\n\x1a\n garbage"), "image/png"));
  EXPECT_FALSE(ReadImageSize(Write("c.pdf", "%PDF-1.4\n%%EOF\n"), "application/pdf"));
}

TEST_F(MediaFilesTest, WebpSizesNeverUpscale) {
  auto jpg = Write("a.jpg", EncodeTestImage(400, 300, ".jpg"));
  auto made = WriteWebp(jpg, "image/jpeg", 320, dir_ + "/out.webp");
  EXPECT_EQ(made.width, 320);
  EXPECT_EQ(made.height, 240);
  EXPECT_EQ(SniffMime(dir_ + "/out.webp"), "image/webp");
  auto same = WriteWebp(jpg, "image/jpeg", 1280, dir_ + "/big.webp");
  EXPECT_EQ(same.width, 400) << "size=down: never wider than the original";
  EXPECT_THROW(WriteWebp(jpg, "image/png", 320, dir_ + "/x.webp"), std::runtime_error);
}

}  // namespace
}  // namespace poste::media::files
