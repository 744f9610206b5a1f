#include "modules/media/multipart_reader.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lib/error.hpp"

namespace poste::media {
namespace {

struct Recorded {
  std::string name;
  std::optional<std::string> filename;
  std::string content_type;
  std::string data;
  bool ended = false;
};

// Feeds `body` in chunks of `chunk` bytes (every split position is tried by the callers) and records the parts.
std::vector<Recorded> Parse(const std::string& body, std::size_t chunk, MultipartLimits limits = {}) {
  std::vector<Recorded> parts;
  MultipartReader::Handler h;
  h.begin = [&](const MultipartReader::Part& p) { parts.push_back({p.name, p.filename, p.content_type, "", false}); };
  h.data = [&](std::string_view d) { parts.back().data.append(d); };
  h.end = [&] { parts.back().ended = true; };
  MultipartReader reader("XyZ", h, limits);
  for (std::size_t i = 0; i < body.size(); i += chunk) reader.Feed(std::string_view(body).substr(i, chunk));
  reader.Finish();
  return parts;
}

int StatusOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const AppError& e) {
    return e.status();
  }
  return 0;
}

const std::string kBody =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"alt\"\r\n"
    "\r\n"
    "A red square\r\n"
    "--XyZ  \r\n"  // transport padding after a boundary
    "Content-Disposition: form-data; name=\"file\"; filename=\"r\\\"ed.png\"\r\n"
    "Content-Type: image/png\r\n"
    "\r\n"
    "\x89PNG\r\n--XyNOT a boundary\r\n--Xy\r\n\r\nbytes\r\n"
    "--XyZ--\r\n"
    "epilogue to ignore --XyZ\r\n";

TEST(MultipartReader, PartsWhateverTheChunkSize) {
  for (std::size_t chunk : {1u, 2u, 3u, 5u, 7u, 8u, 13u, 64u, 4096u}) {
    SCOPED_TRACE(chunk);
    auto parts = Parse(kBody, chunk);
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].name, "alt");
    EXPECT_EQ(parts[0].data, "A red square");
    EXPECT_FALSE(parts[0].filename);
    EXPECT_TRUE(parts[0].ended);
    EXPECT_EQ(parts[1].name, "file");
    EXPECT_EQ(parts[1].filename, "r\"ed.png");
    EXPECT_EQ(parts[1].content_type, "image/png");
    EXPECT_EQ(parts[1].data, "\x89PNG\r\n--XyNOT a boundary\r\n--Xy\r\n\r\nbytes");
    EXPECT_TRUE(parts[1].ended);
  }
}

TEST(MultipartReader, BoundaryAtTheVeryStartAndEmptyParts) {
  auto parts = Parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n\r\n--XyZ--", 4);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].name, "a");
  EXPECT_EQ(parts[0].data, "");
}

TEST(MultipartReader, Rfc8187FilenameWinsOverThePlainOne) {
  auto parts = Parse(
      "--XyZ\r\nContent-Disposition: form-data; name=file; filename=\"fallback.jpg\"; "
      "filename*=UTF-8''%C3%A9t%C3%A9.jpg\r\n\r\nx\r\n--XyZ--\r\n",
      9);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].filename, "\xC3\xA9t\xC3\xA9.jpg");
}

TEST(MultipartReader, MissingFinalBoundaryIs400) {
  EXPECT_EQ(StatusOf([] { Parse("--XyZ\r\nContent-Disposition: form-data; name=file\r\n\r\nhalf a file", 5); }), 400);
  EXPECT_EQ(StatusOf([] { Parse("no boundary at all", 5); }), 400);
  EXPECT_EQ(StatusOf([] { Parse("", 5); }), 400);
}

TEST(MultipartReader, HugePartHeadersAre400WithoutBuffering) {
  std::string body = "--XyZ\r\nContent-Disposition: form-data; name=file\r\nX-Junk: " + std::string(100000, 'a');
  for (std::size_t chunk : {100u, 8192u, 200000u}) {
    EXPECT_EQ(StatusOf([&] { Parse(body, chunk); }), 400) << chunk;
  }
  // Many small header lines add up too.
  std::string lines = "--XyZ\r\nContent-Disposition: form-data; name=file\r\n";
  for (int i = 0; i < 2000; ++i) lines += "X-A: b\r\n";
  EXPECT_EQ(StatusOf([&] { Parse(lines + "\r\nx\r\n--XyZ--", 64); }), 400);
}

TEST(MultipartReader, MalformedPartsAre400) {
  const char* bad[] = {
      "--XyZ\r\n\r\nno disposition\r\n--XyZ--",
      "--XyZ\r\nContent-Disposition: attachment; name=file\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nContent-Disposition: form-data; name=\"unterminated\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nNo colon here\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nContent-Disposition: form-data; name=a\r\n folded\r\n\r\nx\r\n--XyZ--",
      "--XyZ\r\nContent-Disposition: form-data; name=a\r\nX-Bad: a\x01z\r\n\r\nx\r\n--XyZ--",
      "--XyZjunk\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--XyZ--",
  };
  for (const char* body : bad) EXPECT_EQ(StatusOf([&] { Parse(body, 3); }), 400) << body;
}

TEST(MultipartReader, TooManyParts) {
  std::string body;
  for (int i = 0; i < 5; ++i) body += "--XyZ\r\nContent-Disposition: form-data; name=f\r\n\r\nx\r\n";
  body += "--XyZ--";
  MultipartLimits limits;
  limits.max_parts = 4;
  EXPECT_EQ(StatusOf([&] { Parse(body, 10, limits); }), 400);
  limits.max_parts = 5;
  EXPECT_EQ(Parse(body, 10, limits).size(), 5u);
}

TEST(MultipartReader, MemoryStaysBoundedForABigPart) {
  // 5 MB in 64 KiB chunks: data arrives part by part, never accumulated by the reader.
  std::size_t biggest = 0, total = 0;
  MultipartReader::Handler h;
  h.data = [&](std::string_view d) { biggest = std::max(biggest, d.size()), total += d.size(); };
  MultipartReader reader("XyZ", h);
  reader.Feed("--XyZ\r\nContent-Disposition: form-data; name=file; filename=a.bin\r\n\r\n");
  const std::string chunk(65536, 'b');
  for (int i = 0; i < 80; ++i) reader.Feed(chunk);
  reader.Feed("\r\n--XyZ--\r\n");
  reader.Finish();
  EXPECT_EQ(total, 80u * 65536u);
  EXPECT_LE(biggest, 65536u + 16u);
}

TEST(FormDataBoundary, AcceptsOnlyValidBoundaries) {
  EXPECT_EQ(FormDataBoundary("multipart/form-data; boundary=----WebKitFormBoundaryab12"), "----WebKitFormBoundaryab12");
  EXPECT_EQ(FormDataBoundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b'c\""), "a b'c");
  EXPECT_FALSE(FormDataBoundary("multipart/mixed; boundary=abc"));
  EXPECT_FALSE(FormDataBoundary("multipart/form-data"));
  EXPECT_FALSE(FormDataBoundary("multipart/form-data; boundary="));
  EXPECT_FALSE(FormDataBoundary("multipart/form-data; boundary=" + std::string(71, 'a')));
  EXPECT_FALSE(FormDataBoundary("multipart/form-data; boundary=\"ends with space \""));
  EXPECT_FALSE(FormDataBoundary("multipart/form-data; boundary=\"a\r\nb\""));
  EXPECT_FALSE(FormDataBoundary("multipart/form-data; boundary=\"<script>\""));
}

TEST(ParseHeaderValue, ParametersAndHostileInput) {
  auto v = ParseHeaderValue(R"(attachment; filename="a \"b\".jpg"; size=10)");
  ASSERT_TRUE(v);
  EXPECT_EQ(v->value, "attachment");
  EXPECT_EQ(v->Param("filename"), "a \"b\".jpg");
  EXPECT_EQ(v->Param("size"), "10");
  EXPECT_FALSE(ParseHeaderValue(""));
  EXPECT_FALSE(ParseHeaderValue("attachment; filename"));
  EXPECT_FALSE(ParseHeaderValue("attachment; filename*=latin1''%E9.jpg")) << "only UTF-8 extended values";
  EXPECT_FALSE(ParseHeaderValue("attachment; filename*=UTF-8''%zz.jpg"));
  EXPECT_FALSE(ParseHeaderValue("atta<chment"));
  auto ext = ParseHeaderValue("attachment; filename*=UTF-8''..%2F..%2Fetc%2Fpasswd");
  ASSERT_TRUE(ext);
  EXPECT_EQ(DispositionFilename(*ext), "../../etc/passwd") << "decoded here, sanitised by SanitizeFilename";
}

}  // namespace
}  // namespace poste::media
