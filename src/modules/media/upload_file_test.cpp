#include "modules/media/upload_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/error.hpp"

namespace poste::media {
namespace {

class UploadFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("poste-upload-" + std::to_string(::getpid()))).string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::size_t Files() const {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_)) ++n;
    return n;
  }
  std::string dir_;
};

TEST_F(UploadFileTest, HashesAndMovesAtomically) {
  const std::string data = "hello " + std::string(100000, 'x');
  std::string final_path;
  {
    UploadFile f(dir_, 1 << 20);
    EXPECT_TRUE(std::filesystem::path(f.path()).filename().string().starts_with(".upload-"));
    f.Write(std::string_view(data).substr(0, 7));
    f.Write(std::string_view(data).substr(7));
    f.Close();
    EXPECT_EQ(f.size(), data.size());
    EXPECT_EQ(f.sha256_hex(), crypto::HexEncode(crypto::Sha256(data)));
    EXPECT_FALSE(f.markup_seen());
    final_path = dir_ + "/final.bin";
    f.MoveTo(final_path);
  }
  std::ifstream in(final_path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), data);
  EXPECT_EQ(Files(), 1u) << "the moved file stays, nothing else";
}

TEST_F(UploadFileTest, AbandonedOrOversizedUploadsLeaveNoFile) {
  {
    UploadFile f(dir_, 10);
    f.Write("0123456789");
    try {
      f.Write("x");
      FAIL() << "expected a 413";
    } catch (const AppError& e) {
      EXPECT_EQ(e.status(), 413);
    }
    EXPECT_EQ(Files(), 1u);
  }
  EXPECT_EQ(Files(), 0u);
}

TEST_F(UploadFileTest, MarkupIsFoundEvenAcrossChunks) {
  for (std::size_t split = 0; split <= 8; ++split) {
    UploadFile f(dir_, 1 << 20);
    const std::string data = "GIF89a\x01\x02" + std::string("<ScRiPt>alert(1)</script>");
    f.Write(std::string_view(data).substr(0, 8 + split));
    f.Write(std::string_view(data).substr(8 + split));
    EXPECT_TRUE(f.markup_seen()) << split;
  }
  UploadFile clean(dir_, 1 << 20);
  clean.Write("<x:xmpmeta> <rdf:RDF> a < b <scrip");
  clean.Write("x");
  EXPECT_FALSE(clean.markup_seen());
  UploadFile php(dir_, 1 << 20);
  php.Write("\xFF\xD8\xFF<?php system($_GET['c']); ?>");
  EXPECT_TRUE(php.markup_seen());
}

}  // namespace
}  // namespace poste::media
