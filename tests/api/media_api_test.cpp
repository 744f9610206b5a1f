// The media library through the whole App (issue 4), on SQLite and PostgreSQL: uploads (raw and multipart,
// with hostile names, types and bodies), de-duplication, the derive job's sizes, serving with ETag and Range,
// listing, editing and deleting (with and without force), and that no refusal leaves a file behind.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "modules/media/media_files.hpp"
#include "modules/media/media_refs_store.hpp"
#include "modules/media/media_service.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

using namespace std::string_literals;

constexpr std::uint64_t kMaxUpload = 200'000;
const std::string kPdf = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

class MediaApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override {
    data_dir_ = config.data.dir;
    config.media.max_upload_bytes = kMaxUpload;
  }

  std::string Base() const { return "/api/v1/sites/" + std::to_string(site_a_) + "/media"; }
  std::string SiteDir() const { return data_dir_ + "/media/" + std::to_string(site_a_); }

  web::Response Raw(const std::string& query, const std::string& bytes, Headers headers = {}) {
    headers.insert(headers.end(), callers_[kEditorA].begin(), callers_[kEditorA].end());
    headers.emplace_back("Content-Type", "application/octet-stream");
    return Call("POST", Base() + query, headers, bytes);
  }

  web::Response Multipart(const std::string& body, const std::string& boundary = "b0und") {
    Headers h = callers_[kEditorA];
    h.emplace_back("Content-Type", "multipart/form-data; boundary=" + boundary);
    return Call("POST", Base(), h, body);
  }

  static std::string FilePart(const std::string& filename, const std::string& bytes) {
    return "--b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
           "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + bytes + "\r\n";
  }

  std::set<std::string> Files() const {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(SiteDir(), ec)) out.insert(e.path().filename().string());
    return out;
  }

  // A GET of a public file (Call reads a streamed body whole).
  web::Response Fetch(const std::string& url, Headers headers = {}) { return Call("GET", url, headers); }

  static nlohmann::json Json(const web::Response& r) { return nlohmann::json::parse(r.body); }

  std::string data_dir_;
};

TEST_P(MediaApi, RawUploadIsStoredOnceAndServedImmutable) {
  const std::string png = media::files::EncodeTestImage(40, 30, ".png");
  auto created = Raw("?filename=..%2F..%2F..%2Fetc%2Fphoto.png&alt=A%20red%20box", png);
  ASSERT_EQ(created.status, 201) << created.body;
  auto item = Json(created);
  EXPECT_EQ(item["filename"], "photo.png") << "the path is dropped";
  EXPECT_EQ(item["content_type"], "image/png");
  EXPECT_EQ(item["family"], "image");
  EXPECT_EQ(item["width"], 40);
  EXPECT_EQ(item["height"], 30);
  EXPECT_EQ(item["alt"], "A red box");
  EXPECT_EQ(created.headers.Get("Location").value_or(""), Base() + "/" + std::to_string(item["id"].get<int>()));
  EXPECT_EQ(Files().size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(data_dir_ + "/etc")) << "nothing written outside the site's folder";

  // The same bytes again, under another name: the existing item, 200.
  auto again = Raw("", png, {{"Content-Disposition", "attachment; filename=\"copy.png\""}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(again)["id"], item["id"]);
  EXPECT_EQ(Files().size(), 1u);

  auto file = Fetch(item["url"]);
  ASSERT_EQ(file.status, 200);
  EXPECT_EQ(file.body, png);
  EXPECT_EQ(file.headers.Get("Content-Type").value_or(""), "image/png");
  EXPECT_EQ(file.headers.Get("Cache-Control").value_or(""), "public, max-age=31536000, immutable");
  EXPECT_EQ(file.headers.Get("X-Content-Type-Options").value_or(""), "nosniff");
  EXPECT_EQ(file.headers.Get("Accept-Ranges").value_or(""), "bytes");
  const std::string etag(file.headers.Get("ETag").value_or(""));
  EXPECT_EQ(etag, "\"" + item["sha256"].get<std::string>() + "\"");
  EXPECT_EQ(Fetch(item["url"], {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(Fetch(item["url"], {{"If-None-Match", "\"other\""}}).status, 200);
  // Names that are not the item's stored name are not served.
  std::string url = item["url"];
  EXPECT_EQ(Fetch(url.substr(0, url.size() - 3) + "gif").status, 404);
  EXPECT_EQ(Fetch("/media/" + std::to_string(site_b_) + url.substr(url.rfind('/'))).status, 404);
  EXPECT_EQ(Fetch("/media/" + std::to_string(site_a_) + "/..%2F..%2Fposte.db").status, 404);
}

TEST_P(MediaApi, RangeRequests) {
  std::string pdf = kPdf + std::string(1000, '%');
  auto item = Json(Raw("?filename=doc.pdf", pdf));
  const std::string url = item["url"];
  auto part = Fetch(url, {{"Range", "bytes=0-9"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, pdf.substr(0, 10));
  EXPECT_EQ(part.headers.Get("Content-Range").value_or(""), "bytes 0-9/" + std::to_string(pdf.size()));
  auto suffix = Fetch(url, {{"Range", "bytes=-5"}});
  EXPECT_EQ(suffix.status, 206);
  EXPECT_EQ(suffix.body, pdf.substr(pdf.size() - 5));
  auto open = Fetch(url, {{"Range", "bytes=1040-"}});
  EXPECT_EQ(open.status, 206);
  EXPECT_EQ(open.body, pdf.substr(1040));
  auto outside = Fetch(url, {{"Range", "bytes=99999-"}});
  EXPECT_EQ(outside.status, 416);
  EXPECT_EQ(outside.headers.Get("Content-Range").value_or(""), "bytes */" + std::to_string(pdf.size()));
  auto several = Fetch(url, {{"Range", "bytes=0-1,5-6"}});
  EXPECT_EQ(several.status, 200);
  EXPECT_EQ(several.body, pdf);
  const std::string etag = "\"" + item["sha256"].get<std::string>() + "\"";
  EXPECT_EQ(Fetch(url, {{"Range", "bytes=0-9"}, {"If-Range", etag}}).status, 206);
  auto stale = Fetch(url, {{"Range", "bytes=0-9"}, {"If-Range", "\"older\""}});
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(stale.body, pdf);
}

TEST_P(MediaApi, MultipartWithFields) {
  const std::string body = "--b0und\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nCover\r\n" +
                           FilePart("Report 2024.pdf", kPdf) +
                           "--b0und\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nLine 1\nLine 2\r\n"
                           "--b0und--\r\n";
  auto r = Multipart(body);
  ASSERT_EQ(r.status, 201) << r.body;
  auto item = Json(r);
  EXPECT_EQ(item["filename"], "Report 2024.pdf");
  EXPECT_EQ(item["alt"], "Cover");
  EXPECT_EQ(item["caption"], "Line 1\nLine 2");
  EXPECT_EQ(item["content_type"], "application/pdf");
}

TEST_P(MediaApi, MultipartEdgeCasesLeaveNoFile) {
  EXPECT_EQ(Multipart(FilePart("a.pdf", kPdf)).status, 400) << "missing final boundary";
  EXPECT_EQ(Multipart("--b0und\r\nContent-Disposition: form-data; name=\"alt\"\r\n\r\nx\r\n--b0und--").status, 422)
      << "no file part";
  EXPECT_EQ(Multipart(FilePart("a.pdf", kPdf) + FilePart("b.pdf", kPdf) + "--b0und--").status, 400) << "two files";
  EXPECT_EQ(Multipart("--b0und\r\nContent-Disposition: form-data; name=\"file\"\r\nX: " + std::string(20000, 'h') +
                      "\r\n\r\nx\r\n--b0und--")
                .status,
            400)
      << "huge part headers";
  Headers h = callers_[kEditorA];
  h.emplace_back("Content-Type", "multipart/form-data");
  EXPECT_EQ(Call("POST", Base(), h, FilePart("a.pdf", kPdf) + "--b0und--").status, 400) << "no boundary";
  EXPECT_TRUE(Files().empty());
}

TEST_P(MediaApi, HostileFilesAreRefusedAndLeaveNoFile) {
  const std::string gif = media::files::EncodeTestImage(2, 2, ".gif");
  const std::string polyglot = "GIF89a/*\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff*/=1;<script>alert(1)</script>"s;
  struct Case {
    std::string name, query, bytes;
    int status;
    std::string code;
  };
  for (const auto& c : std::vector<Case>{
           {"zero bytes", "?filename=empty.png", "", 422, "empty"},
           {"double extension", "?filename=shell.php.gif", gif, 422, "dangerous_extension"},
           {"extension disagrees", "?filename=photo.jpg", gif, 422, "extension_mismatch"},
           {"polyglot", "?filename=x.gif", polyglot, 422, "polyglot"},
           {"html", "?filename=page.html", "<!DOCTYPE html><html><script>1</script></html>", 415, "unsupported_type"},
           {"php", "?filename=x.png", "<?php system($_GET['c']); ?>", 415, "unsupported_type"},
           {"too large", "?filename=big.pdf", kPdf + std::string(kMaxUpload, ' '), 413, ""},
       }) {
    auto r = Raw(c.query, c.bytes);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    if (!c.code.empty()) {
      EXPECT_NE(r.body.find("\"code\":\"" + c.code + "\""), std::string::npos) << c.name << ": " << r.body;
    }
  }
  EXPECT_TRUE(Files().empty());
  // Control characters and bidi overrides vanish from the kept name; the stored name is the server's.
  auto ok = Raw("?filename=a%0D%0Ab%E2%80%AEfdp.pdf", kPdf);
  ASSERT_EQ(ok.status, 201) << ok.body;
  EXPECT_EQ(Json(ok)["filename"], "abfdp.pdf");
  EXPECT_TRUE((*Files().begin()).ends_with(".pdf"));
}

TEST_P(MediaApi, SvgIsServedAsASandboxedAttachment) {
  auto r = Raw("?filename=logo.svg",
               R"(<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>)");
  ASSERT_EQ(r.status, 201) << r.body;
  auto item = Json(r);
  EXPECT_EQ(item["content_type"], "image/svg+xml");
  auto file = Fetch(item["url"]);
  EXPECT_EQ(file.status, 200);
  EXPECT_TRUE(file.headers.Get("Content-Disposition").value_or("").starts_with("attachment;"));
  EXPECT_TRUE(file.headers.Get("Content-Security-Policy").value_or("").starts_with("sandbox"));
  EXPECT_EQ(file.headers.Get("Content-Type").value_or(""), "image/svg+xml");
}

TEST_P(MediaApi, DerivedSizesComeFromTheJob) {
  auto created = Raw("?filename=wide.jpg", media::files::EncodeTestImage(1500, 1000, ".jpg"));
  ASSERT_EQ(created.status, 201) << created.body;
  auto item = Json(created);
  EXPECT_TRUE(item["variants"].empty()) << "made later, by the job";
  // Run the queued job as a worker would, with a service over the app's data folder.
  jobs::JobQueue queue(db());
  media::MediaService service(db(), queue, {data_dir_ + "/media", kMaxUpload});
  auto job = queue.Claim("test", 60'000, {std::string(media::kDeriveJobKind)});
  ASSERT_TRUE(job);
  service.Derive(*job);
  auto got = Call("GET", Base() + "/" + std::to_string(item["id"].get<int>()), callers_[kEditorA]);
  ASSERT_EQ(got.status, 200);
  auto variants = Json(got)["variants"];
  ASSERT_EQ(variants.size(), 3u);
  EXPECT_EQ(variants[2]["width"], 1280);
  EXPECT_EQ(variants[2]["height"], 853);
  auto webp = Fetch(variants[0]["url"]);
  EXPECT_EQ(webp.status, 200);
  EXPECT_EQ(webp.headers.Get("Content-Type").value_or(""), "image/webp");
  EXPECT_EQ(webp.body.substr(8, 4), "WEBP");
  EXPECT_EQ(Files().size(), 4u);
  // Deleting removes the original and every size.
  EXPECT_EQ(Call("DELETE", Base() + "/" + std::to_string(item["id"].get<int>()), callers_[kEditorA]).status, 204);
  EXPECT_TRUE(Files().empty());
  EXPECT_EQ(Fetch(variants[0]["url"]).status, 404);
}

TEST_P(MediaApi, DeleteInUseNeedsForce) {
  auto item = Json(Raw("?filename=a.pdf", kPdf));
  const std::int64_t id = item["id"];
  db().Write([&](soci::session& s) { media::store::ReplaceRefs(s, site_a_, "entry", 77, {id}); });
  auto got = Json(Call("GET", Base() + "/" + std::to_string(id), callers_[kEditorA]));
  ASSERT_EQ(got["uses"].size(), 1u);
  EXPECT_EQ(got["uses"][0]["owner_id"], 77);
  auto refused = Call("DELETE", Base() + "/" + std::to_string(id), callers_[kEditorA]);
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("entry 77 uses this item"), std::string::npos) << refused.body;
  EXPECT_EQ(Files().size(), 1u);
  EXPECT_EQ(Call("DELETE", Base() + "/" + std::to_string(id) + "?force=yes", callers_[kEditorA]).status, 400);
  EXPECT_EQ(Call("DELETE", Base() + "/" + std::to_string(id) + "?force=true", callers_[kEditorA]).status, 204);
  EXPECT_TRUE(Files().empty());
  EXPECT_EQ(Call("GET", Base() + "/" + std::to_string(id), callers_[kEditorA]).status, 404);
}

// A forced deletion leaves no entry pointing at the item: the entries that used it lose the value in the
// deleting transaction (a new version each, with its revision), and the public answers are fresh.
TEST_P(MediaApi, ForcedDeleteClearsTheEntriesThatUseIt) {
  auto created =
      Call("POST", "/api/v1/sites/alpha/collections", callers_[kEditorA],
           R"({"name":"Gallery","fields":[{"name":"title","type":"text"},{"name":"image","type":"media"}]})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::int64_t id = Json(Raw("?filename=a.pdf", kPdf))["id"];
  const std::string entries = "/api/v1/sites/alpha/collections/gallery/entries";
  auto entry = Call("POST", entries, callers_[kEditorA],
                    nlohmann::json{{"status", "published"}, {"data", {{"title", "T"}, {"image", id}}}}.dump());
  ASSERT_EQ(entry.status, 201) << entry.body;
  const std::string one = entries + "/" + std::to_string(Json(entry)["id"].get<std::int64_t>());
  const std::string public_one =
      "/api/v1/public/sites/alpha/collections/gallery/entries/" + std::to_string(Json(entry)["id"].get<std::int64_t>());
  EXPECT_EQ(Json(Call("GET", public_one))["data"]["image"], id);  // now in the public cache

  auto refused = Call("DELETE", Base() + "/" + std::to_string(id), callers_[kEditorA]);
  EXPECT_EQ(refused.status, 409);
  EXPECT_EQ(Json(Call("GET", one, callers_[kEditorA]))["data"]["image"], id);
  EXPECT_EQ(Call("DELETE", Base() + "/" + std::to_string(id) + "?force=true", callers_[kEditorA]).status, 204);
  auto after = Json(Call("GET", one, callers_[kEditorA]));
  EXPECT_EQ(after["data"], (nlohmann::json{{"title", "T"}}));
  EXPECT_EQ(Json(Call("GET", one + "/revisions", callers_[kEditorA]))["items"].size(), 2u);
  EXPECT_FALSE(Json(Call("GET", public_one))["data"].contains("image")) << "the public cache was dropped";
  auto audit = Json(Call("GET", "/api/v1/audit?action=entry.update", callers_[kAdmin]))["items"];
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0]["changes"]["reason"]["deleted_media"], id);
}

TEST_P(MediaApi, ListFiltersPatchAndValidation) {
  Raw("?filename=Annual.pdf", kPdf);
  auto png = Json(Raw("?filename=logo.png", media::files::EncodeTestImage(5, 5, ".png")));
  const std::string one = Base() + "/" + std::to_string(png["id"].get<int>());
  auto patched = Call("PATCH", one, callers_[kEditorA], R"({"alt":"Company logo","caption":"Since 1990"})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(Json(patched)["alt"], "Company logo");
  EXPECT_EQ(Call("PATCH", one, callers_[kEditorA], R"({"alt":"a\u0000b"})").status, 422);
  EXPECT_EQ(Call("PATCH", one, callers_[kEditorA], R"({"alt":7})").status, 422);
  EXPECT_EQ(Call("PATCH", one, callers_[kEditorA], nlohmann::json{{"alt", std::string(1001, 'a')}}.dump()).status, 422);

  auto list = [&](const std::string& q) { return Call("GET", Base() + q, callers_[kEditorA]); };
  EXPECT_EQ(Json(list(""))["items"].size(), 2u);
  EXPECT_EQ(Json(list("?type=image"))["items"].size(), 1u);
  EXPECT_EQ(Json(list("?type=document"))["items"][0]["filename"], "Annual.pdf");
  EXPECT_EQ(Json(list("?q=company"))["items"].size(), 1u);
  EXPECT_EQ(Json(list("?q=%27%20OR%201%3D1%20--"))["items"].size(), 0u);
  auto first = Json(list("?limit=1"));
  ASSERT_EQ(first["items"].size(), 1u);
  ASSERT_TRUE(first["next_cursor"].is_string());
  auto second = Json(list("?limit=1&cursor=" + first["next_cursor"].get<std::string>()));
  EXPECT_EQ(second["items"][0]["filename"], "Annual.pdf");
  EXPECT_TRUE(second["next_cursor"].is_null());
  EXPECT_EQ(Json(list("?from=4102444800000"))["items"].size(), 0u);
  EXPECT_EQ(list("?type=exe").status, 422);
  EXPECT_EQ(list("?limit=0").status, 400);
  EXPECT_EQ(list("?q=" + std::string(300, 'a')).status, 400);
}

POSTE_INSTANTIATE_DB_TEST(MediaApi);

}  // namespace
}  // namespace poste::testing
