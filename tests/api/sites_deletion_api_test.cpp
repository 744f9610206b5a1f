// Deleting a site removes the files kept for it once its rows are gone: its media folder (data/media/<id>/) and
// its folder of published files (data/sites/<slug>/seo.json), through the whole App on SQLite and PostgreSQL.
// A file that cannot be removed is logged and the deletion still succeeds. Renaming a site's slug moves its
// folder of published files along.
#include <fcntl.h>
#include <linux/fs.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "jobs/job.hpp"
#include "jobs/job_queue.hpp"
#include "modules/content/content_service.hpp"
#include "modules/seo/seo_service.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

namespace fs = std::filesystem;

const std::string kPdf = "%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n";

// Makes a folder's entries impossible to remove, even for root (the immutable attribute; a read-only mode
// where that is not available to the user running the tests), until Undo.
class Undeletable {
 public:
  explicit Undeletable(std::string dir) : dir_(std::move(dir)) {
    immutable_ = SetImmutable(true);
    if (!immutable_) ::chmod(dir_.c_str(), 0555);
  }
  ~Undeletable() { Undo(); }
  void Undo() {
    if (immutable_) SetImmutable(false);
    ::chmod(dir_.c_str(), 0755);
    immutable_ = false;
  }

 private:
  bool SetImmutable(bool on) {
    const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return false;
    int flags = 0;
    bool ok = ::ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0;
    if (ok) {
      flags = on ? (flags | FS_IMMUTABLE_FL) : (flags & ~FS_IMMUTABLE_FL);
      ok = ::ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
    ::close(fd);
    return ok;
  }
  std::string dir_;
  bool immutable_ = false;
};

class SitesDeletionApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override { data_dir_ = config.data.dir; }

  std::string MediaDir(std::int64_t site) const { return data_dir_ + "/media/" + std::to_string(site); }
  std::string SeoDir(const std::string& slug) const { return data_dir_ + "/sites/" + slug; }

  void Upload(std::int64_t site, const std::string& name) {
    Headers h = callers_[kAdmin];
    h.emplace_back("Content-Type", "application/octet-stream");
    auto r = Call("POST", "/api/v1/sites/" + std::to_string(site) + "/media?filename=" + name, h, kPdf + name);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  // Runs the queued seo.json regenerations as a worker would, over the app's data folder.
  void RunSeoJobs() {
    jobs::JobQueue queue(db());
    content::ContentService content(db(), queue);
    seo::SeoService seo(db(), queue, content, data_dir_);
    while (auto job = queue.Claim("test", 60'000, {std::string(seo::kRegenerateJobKind)})) {
      seo.RunRegenerateJob(*job);
      queue.Complete(job->id, "test");
    }
  }

  // Both sites with a media file and a seo.json.
  void Populate() {
    for (auto [site, slug] : {std::pair{site_a_, "alpha"}, std::pair{site_b_, "beta"}}) {
      Upload(site, std::string(slug) + ".pdf");
      auto r = Call("POST", "/api/v1/sites/" + std::string(slug) + "/collections", callers_[kAdmin],
                    R"({"preset":"pages"})");
      ASSERT_EQ(r.status, 201) << r.body;
    }
    RunSeoJobs();
    for (auto [site, slug] : {std::pair{site_a_, "alpha"}, std::pair{site_b_, "beta"}}) {
      ASSERT_FALSE(fs::is_empty(MediaDir(site))) << slug;
      ASSERT_TRUE(fs::exists(SeoDir(slug) + "/seo.json")) << slug;
    }
  }

  std::string data_dir_;
};

TEST_P(SitesDeletionApi, TheSitesFilesGoWithIt) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  auto r = Call("DELETE", "/api/v1/sites/alpha", callers_[kAdmin]);
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_FALSE(fs::exists(MediaDir(site_a_)));
  EXPECT_FALSE(fs::exists(SeoDir("alpha")));
  // The other site keeps its files.
  EXPECT_FALSE(fs::is_empty(MediaDir(site_b_)));
  EXPECT_TRUE(fs::exists(SeoDir("beta") + "/seo.json"));
  // A regeneration still queued for the deleted site writes nothing back.
  RunSeoJobs();
  EXPECT_FALSE(fs::exists(SeoDir("alpha")));
  EXPECT_TRUE(fs::exists(data_dir_ + "/media"));
}

TEST_P(SitesDeletionApi, AFileThatCannotBeRemovedIsLoggedNotFatal) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  std::ostringstream log;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log);
  auto logger = spdlog::default_logger();
  logger->sinks().push_back(sink);
  {
    Undeletable locked(MediaDir(site_b_));
    auto r = Call("DELETE", "/api/v1/sites/beta", callers_[kAdmin]);
    EXPECT_EQ(r.status, 204) << r.body;
    EXPECT_FALSE(fs::is_empty(MediaDir(site_b_))) << "the locked file stays";
    locked.Undo();
  }
  auto& sinks = logger->sinks();
  sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  EXPECT_NE(log.str().find("could not remove the media folder"), std::string::npos) << log.str();
  // The site is gone all the same, and its other folder was removed.
  EXPECT_EQ(Call("GET", "/api/v1/sites/beta", callers_[kAdmin]).status, 404);
  EXPECT_FALSE(fs::exists(SeoDir("beta")));
  EXPECT_TRUE(fs::exists(SeoDir("alpha") + "/seo.json"));
}

TEST_P(SitesDeletionApi, ARenamedSitesPublishedFilesFollowItsSlug) {
  Populate();
  ASSERT_FALSE(HasFatalFailure());
  auto r = Call("PATCH", "/api/v1/sites/alpha", callers_[kAdmin], R"({"slug":"omega"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(fs::exists(SeoDir("alpha")));
  ASSERT_TRUE(fs::exists(SeoDir("omega") + "/seo.json")) << "moved once the change committed";
  EXPECT_TRUE(fs::exists(SeoDir("beta") + "/seo.json"));
  // The regeneration the change queued rewrites it under the new slug, and nothing comes back under the old.
  RunSeoJobs();
  std::ifstream in(SeoDir("omega") + "/seo.json");
  const auto doc = nlohmann::json::parse(in, nullptr, false);
  EXPECT_EQ(doc["site"]["slug"], "omega") << doc.dump();
  EXPECT_FALSE(fs::exists(SeoDir("alpha")));
  // The media folder is keyed by the site's id: it stays where it is.
  EXPECT_FALSE(fs::is_empty(MediaDir(site_a_)));
  // A rename onto a slug whose folder exists (a deleted site's that could not be removed) keeps the newer files.
  fs::create_directories(SeoDir("gamma"));
  std::ofstream(SeoDir("gamma") + "/stale.txt") << "left behind";
  r = Call("PATCH", "/api/v1/sites/omega", callers_[kAdmin], R"({"slug":"gamma"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(fs::exists(SeoDir("omega")));
  EXPECT_TRUE(fs::exists(SeoDir("gamma") + "/seo.json"));
}

POSTE_INSTANTIATE_DB_TEST(SitesDeletionApi);

}  // namespace
}  // namespace poste::testing
