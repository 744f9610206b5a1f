#include "modules/media/media_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/error.hpp"
#include "modules/media/media_files.hpp"
#include "modules/media/media_names.hpp"
#include "modules/media/media_refs_store.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/webhooks/webhook_events.hpp"
#include "support/db_fixture.hpp"

namespace poste::media {
namespace {

using namespace std::string_literals;

class MediaServiceTest : public testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    root_ = (std::filesystem::temp_directory_path() /
             ("poste-media-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<uintptr_t>(this))))
                .string();
    queue_ = std::make_unique<jobs::JobQueue>(db());
    service_ = std::make_unique<MediaService>(db(), *queue_, MediaOptions{root_, 1 << 20});
    site_ = AddSite("alpha");
    other_ = AddSite("beta");
  }
  void TearDown() override {
    std::filesystem::remove_all(root_);
    DbTest::TearDown();
  }

  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite site;
    site.slug = slug;
    site.name = slug;
    return db().WriteValue([&](soci::session& s) { return sites::store::Insert(s, site, 1); });
  }

  UploadOutcome Upload(std::int64_t site, const std::string& bytes, const std::string& filename,
                       const std::string& alt = "") {
    auto file = service_->StartUpload(site);
    file->Write(bytes);
    return service_->Commit(origin_, site, *file, {filename, alt, ""});
  }

  // The status and field code an upload is refused with.
  std::pair<int, std::string> Refusal(const std::string& bytes, const std::string& filename) {
    try {
      Upload(site_, bytes, filename);
    } catch (const AppError& e) {
      return {e.status(), e.fields().empty() ? "" : e.fields().front().code};
    }
    return {0, ""};
  }

  std::set<std::string> FilesOf(std::int64_t site) {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(service_->SiteDir(site), ec)) {
      out.insert(e.path().filename().string());
    }
    return out;
  }

  int JobsOfKind(std::string_view kind) {
    return db().ReadValue([&](soci::session& s) {
      int n = 0;
      const std::string k(kind);
      s << "SELECT COUNT(*) FROM jobs WHERE kind = :k", soci::use(k), soci::into(n);
      return n;
    });
  }

  void RunDeriveJobs() {
    while (auto job = queue_->Claim("test", 60'000, {std::string(kDeriveJobKind)})) {
      service_->Derive(*job);
      queue_->Complete(job->id, "test");
    }
  }

  std::string root_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<MediaService> service_;
  audit::Origin origin_{std::nullopt, std::nullopt, "127.0.0.1", "req-1"};
  std::int64_t site_ = 0, other_ = 0;
};

const std::string kPdf = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

TEST_P(MediaServiceTest, StoresUnderAGeneratedNameWithEventAndAudit) {
  auto out = Upload(site_, kPdf, "../../Rapport annuel.PDF", "Le rapport");
  ASSERT_TRUE(out.created);
  const auto& item = out.item;
  EXPECT_EQ(item.content_type, "application/pdf");
  EXPECT_EQ(item.family, "document");
  EXPECT_EQ(item.filename, "Rapport annuel.PDF");
  EXPECT_EQ(item.ext, "pdf");
  EXPECT_EQ(item.size_bytes, static_cast<std::int64_t>(kPdf.size()));
  EXPECT_EQ(item.alt, "Le rapport");
  EXPECT_EQ(FilesOf(site_), std::set<std::string>{StoredFileName(item.id, item.sha256, "pdf")});
  EXPECT_EQ(JobsOfKind(webhooks::kEventJobKind), 1);
  EXPECT_EQ(JobsOfKind(kDeriveJobKind), 0) << "no sizes for a PDF";
  auto audit_rows = db().ReadValue([&](soci::session& s) {
    int n = 0;
    s << "SELECT COUNT(*) FROM audit_log WHERE action = 'media.create'", soci::into(n);
    return n;
  });
  EXPECT_EQ(audit_rows, 1);
}

TEST_P(MediaServiceTest, TheSameBytesTwiceGiveTheSameItemPerSite) {
  auto first = Upload(site_, kPdf, "a.pdf");
  auto again = Upload(site_, kPdf, "b.pdf");
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.item.id, first.item.id);
  EXPECT_EQ(again.item.filename, "a.pdf");
  EXPECT_EQ(FilesOf(site_).size(), 1u) << "the duplicate's temporary file is gone";
  auto elsewhere = Upload(other_, kPdf, "a.pdf");
  EXPECT_TRUE(elsewhere.created) << "de-duplication is per site";
  EXPECT_NE(elsewhere.item.id, first.item.id);
}

TEST_P(MediaServiceTest, RefusalsLeaveNoFile) {
  const std::string gif = files::EncodeTestImage(1, 1, ".gif");
  const std::string polyglot = "GIF89a/*\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff*/=1;<script>alert(1)</script>"s;
  EXPECT_EQ(Refusal("", "empty.pdf"), (std::pair<int, std::string>{422, "empty"}));
  EXPECT_EQ(Refusal("<?php echo 1; ?>", "x.jpg"), (std::pair<int, std::string>{415, "unsupported_type"}));
  EXPECT_EQ(Refusal("<html><body>hi</body></html>", "x.html"), (std::pair<int, std::string>{415, "unsupported_type"}));
  EXPECT_EQ(Refusal(kPdf, "report.jpg"), (std::pair<int, std::string>{422, "extension_mismatch"}));
  EXPECT_EQ(Refusal(gif, "x.php.gif"), (std::pair<int, std::string>{422, "dangerous_extension"}));
  EXPECT_EQ(Refusal(gif, "x.php"), (std::pair<int, std::string>{422, "extension_mismatch"}));
  EXPECT_EQ(Refusal(polyglot, "x.gif"), (std::pair<int, std::string>{422, "polyglot"}));
  // A PNG signature and a header declaring a 0 x 0 image: libmagic says PNG, libvips cannot read it.
  EXPECT_EQ(Refusal(std::string("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", 16) + std::string(40, '\0'), "broken.png"),
            (std::pair<int, std::string>{422, "invalid_image"}));
  EXPECT_TRUE(FilesOf(site_).empty());
  EXPECT_EQ(JobsOfKind(webhooks::kEventJobKind), 0);
  // Without an extension the sniffed type decides the stored name.
  auto ok = Upload(site_, gif, "pixel");
  EXPECT_EQ(ok.item.content_type, "image/gif");
  EXPECT_EQ(ok.item.filename, "pixel");
  EXPECT_EQ(ok.item.width, 1);
  auto unnamed = Upload(site_, kPdf, "");
  EXPECT_EQ(unnamed.item.filename, "upload.pdf");
}

TEST_P(MediaServiceTest, OversizedUploadsAre413) {
  auto file = service_->StartUpload(site_);
  try {
    file->Write(std::string((1 << 20) + 1, 'a'));
    FAIL();
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 413);
  }
  file.reset();
  EXPECT_TRUE(FilesOf(site_).empty());
}

TEST_P(MediaServiceTest, DeriveMakesWebpSizesNeverUpscaling) {
  auto png = files::EncodeTestImage(1000, 500, ".png");
  auto out = Upload(site_, png, "wide.png");
  ASSERT_TRUE(out.created);
  EXPECT_EQ(out.item.width, 1000);
  EXPECT_EQ(out.item.height, 500);
  EXPECT_EQ(JobsOfKind(kDeriveJobKind), 1);
  RunDeriveJobs();
  auto item = service_->Get(site_, out.item.id);
  ASSERT_EQ(item.variants.size(), 2u) << "320 and 768; 1280 would upscale";
  EXPECT_EQ(item.variants[0].width, 320);
  EXPECT_EQ(item.variants[0].height, 160);
  EXPECT_EQ(item.variants[1].width, 768);
  EXPECT_EQ(item.variants[1].height, 384);
  EXPECT_EQ(FilesOf(site_).size(), 3u);
  auto served = service_->Resolve(site_, VariantFileName(item.id, item.sha256, 320));
  ASSERT_TRUE(served);
  EXPECT_EQ(served->content_type, "image/webp");
  EXPECT_EQ(files::SniffMime(served->path), "image/webp");
  EXPECT_FALSE(service_->Resolve(site_, VariantFileName(item.id, item.sha256, 1280)));
  EXPECT_FALSE(service_->Resolve(other_, VariantFileName(item.id, item.sha256, 320))) << "another site's file";
  // Running the job again changes nothing.
  jobs::Job again;
  again.payload = nlohmann::json{{"site_id", site_}, {"media_id", item.id}}.dump();
  service_->Derive(again);
  EXPECT_EQ(service_->Get(site_, item.id).variants.size(), 2u);
  EXPECT_EQ(FilesOf(site_).size(), 3u);
  // A bad payload is a permanent failure; a deleted item is nothing to do.
  jobs::Job bad;
  bad.payload = R"({"media_id":"x"})";
  EXPECT_THROW(service_->Derive(bad), jobs::PermanentError);
  service_->Delete(origin_, site_, item.id, false);
  service_->Derive(again);
  EXPECT_TRUE(FilesOf(site_).empty()) << "deleting removed the original and every size";
}

TEST_P(MediaServiceTest, DeleteInUseNeedsForce) {
  auto item = Upload(site_, kPdf, "a.pdf").item;
  db().Write([&](soci::session& s) {
    store::ReplaceRefs(s, site_, "entry", 41, {item.id});
    store::ReplaceRefs(s, site_, "entry", 42, {item.id});
  });
  EXPECT_EQ(service_->Uses(site_, item.id).size(), 2u);
  try {
    service_->Delete(origin_, site_, item.id, false);
    FAIL() << "expected 409";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 409);
    ASSERT_EQ(e.fields().size(), 2u);
    EXPECT_EQ(e.fields()[0].message, "entry 41 uses this item");
  }
  EXPECT_EQ(FilesOf(site_).size(), 1u);
  EXPECT_THROW(service_->Delete(origin_, other_, item.id, true), AppError) << "another site's item is 404";
  service_->Delete(origin_, site_, item.id, true);
  EXPECT_TRUE(FilesOf(site_).empty());
  EXPECT_TRUE(service_->Uses(site_, item.id).empty()) << "the refs went with the item";
  EXPECT_EQ(JobsOfKind(webhooks::kEventJobKind), 2) << "media.created and media.deleted";
}

TEST_P(MediaServiceTest, UpdateListAndFilters) {
  auto pdf = Upload(site_, kPdf, "Annual Report.pdf").item;
  auto png = Upload(site_, files::EncodeTestImage(10, 10, ".png"), "logo.png", "Company logo").item;
  Upload(other_, files::EncodeTestImage(11, 10, ".png"), "other.png");
  auto updated = service_->Update(origin_, site_, pdf.id, {std::string("Cover page"), std::nullopt});
  EXPECT_EQ(updated.alt, "Cover page");
  EXPECT_THROW(service_->Update(origin_, site_, pdf.id, {std::string("a\nb"), std::nullopt}), AppError);
  EXPECT_THROW(service_->Update(origin_, other_, pdf.id, {std::string("x"), std::nullopt}), AppError);

  auto all = service_->List(site_, {});
  ASSERT_EQ(all.items.size(), 2u);
  EXPECT_EQ(all.items[0].id, png.id) << "newest first";
  ListFilter images;
  images.family = "image";
  EXPECT_EQ(service_->List(site_, images).items.size(), 1u);
  ListFilter q;
  q.q = "LOGO";
  EXPECT_EQ(service_->List(site_, q).items.size(), 1u);
  q.q = "cover";  // alt text
  EXPECT_EQ(service_->List(site_, q).items.at(0).id, pdf.id);
  q.q = "100%";
  EXPECT_TRUE(service_->List(site_, q).items.empty());
  ListFilter page;
  page.limit = 1;
  auto first = service_->List(site_, page);
  ASSERT_TRUE(first.next_cursor);
  page.cursor = first.next_cursor;
  auto second = service_->List(site_, page);
  ASSERT_EQ(second.items.size(), 1u);
  EXPECT_EQ(second.items[0].id, pdf.id);
  EXPECT_FALSE(second.next_cursor);
  ListFilter dates;
  dates.from_ms = pdf.created_at + 1'000'000'000;
  EXPECT_TRUE(service_->List(site_, dates).items.empty());
  ListFilter wrong;
  wrong.family = "executable";
  EXPECT_THROW(service_->List(site_, wrong), AppError);
}

POSTE_INSTANTIATE_DB_TEST(MediaServiceTest);

}  // namespace
}  // namespace poste::media
