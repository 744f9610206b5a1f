#include "lib/web/body_source.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lib/error.hpp"
#include "lib/web/file_body.hpp"
#include "support/run_task.hpp"

namespace poste::web {
namespace {

using testing::RunTask;

TEST(BodySource, InMemoryBodyReadsInChunksThenEnds) {
  Request request;
  request.body = "0123456789";
  auto chunks = RunTask([&]() -> boost::asio::awaitable<std::vector<std::string>> {
    std::vector<std::string> out;
    char buf[4];
    auto& body = BodyOf(request);
    EXPECT_EQ(body.Length(), 10u);
    for (std::size_t n; (n = co_await body.Read(buf)) > 0;) out.emplace_back(buf, n);
    co_return out;
  }());
  EXPECT_EQ(chunks, (std::vector<std::string>{"0123", "4567", "89"}));
  EXPECT_EQ(&BodyOf(request), request.body_stream.get()) << "one source per request";
}

TEST(BodySource, ReadAllStopsPastItsLimit) {
  StringBodySource small("abc");
  EXPECT_EQ(RunTask(ReadAll(small, 3)), "abc");
  StringBodySource big("abcd");
  try {
    RunTask(ReadAll(big, 3));
    FAIL() << "expected a 413";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 413);
  }
}

class FileBodyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() / ("poste-file-body-" + std::to_string(::getpid()))).string();
    std::ofstream(path_, std::ios::binary) << content_;
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::string path_;
  std::string content_ = std::string(200000, 'x') + "tail";
};

TEST_F(FileBodyTest, SendsTheWholeFileInChunks) {
  auto file = FileBodySource::Open(path_);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->FileSize(), content_.size());
  EXPECT_EQ(file->Length(), content_.size());
  EXPECT_EQ(RunTask(ReadAll(*file, 1 << 20)), content_);
}

TEST_F(FileBodyTest, SendsOnlyItsRangeEvenAfterTheFileIsDeleted) {
  auto file = FileBodySource::Open(path_);
  ASSERT_TRUE(file);
  file->SetRange(content_.size() - 5, 5);
  std::filesystem::remove(path_);
  EXPECT_EQ(file->Length(), 5u);
  EXPECT_EQ(RunTask(ReadAll(*file, 100)), "xtail");
}

TEST_F(FileBodyTest, RefusesMissingFilesDirectoriesAndSymlinks) {
  EXPECT_EQ(FileBodySource::Open(path_ + ".missing"), nullptr);
  EXPECT_EQ(FileBodySource::Open(std::filesystem::temp_directory_path().string()), nullptr);
  const std::string link = path_ + ".link";
  std::filesystem::create_symlink(path_, link);
  EXPECT_EQ(FileBodySource::Open(link), nullptr) << "a symlink in the media folder is never followed";
  std::filesystem::remove(link);
}

TEST_F(FileBodyTest, AFileThatShrankEndsTheBodyWithAnError) {
  auto file = FileBodySource::Open(path_);
  ASSERT_TRUE(file);
  std::filesystem::resize_file(path_, 10);
  EXPECT_THROW(RunTask(ReadAll(*file, 1 << 20)), std::runtime_error);
}

}  // namespace
}  // namespace poste::web
