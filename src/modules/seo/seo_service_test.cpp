#include "modules/seo/seo_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/error.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/content/content_service.hpp"
#include "modules/seo/seo_store.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::seo {
namespace {

using nlohmann::json;

int StatusOf(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const AppError& e) {
    return e.status();
  }
  return 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SeoServiceTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    if (HasFatalFailure()) return;
    dir_ = (std::filesystem::temp_directory_path() /
            ("poste-seo-" + std::to_string(::getpid()) + "-" + std::to_string(reinterpret_cast<uintptr_t>(this))))
               .string();
    queue_ = std::make_unique<jobs::JobQueue>(db());
    content_ = std::make_unique<content::ContentService>(db(), *queue_);
    service_ = std::make_unique<SeoService>(db(), *queue_, *content_, dir_);
    service_->on_changed = [this](std::int64_t site) { changed_.push_back(site); };
    site_a_ = AddSite("alpha", "Alpha Formation", "Courses in Lausanne since 1990.");
    site_b_ = AddSite("beta", "Beta", "");
    content_->AddPreset(origin_, site_a_, "formations");
    content_->AddPreset(origin_, site_a_, "pages");
    content_->AddPreset(origin_, site_b_, "formations");
  }
  void TearDown() override {
    service_.reset();
    content_.reset();
    queue_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    DbTest::TearDown();
  }

  std::int64_t AddSite(const std::string& slug, const std::string& name, const std::string& description) {
    sites::NewSite site;
    site.slug = slug;
    site.name = name;
    site.description = description;
    site.locale = "fr";
    site.domains = {slug + ".example.com"};
    return db().WriteValue([&](soci::session& s) { return sites::store::Insert(s, site, 1); });
  }

  content::Entry AddEntry(std::int64_t site, const std::string& collection, json data, bool published) {
    content::EntryInput in;
    in.status = published ? content::EntryStatus::kPublished : content::EntryStatus::kDraft;
    in.data = std::move(data);
    return content_->CreateEntry(origin_, site, collection, in);
  }

  PageSeo Page(json body) {
    std::vector<FieldError> errors;
    auto p = PageSeoFromJson(body, errors);
    EXPECT_TRUE(errors.empty()) << errors.front().field;
    return p;
  }

  SeoService& svc() { return *service_; }

  audit::Origin origin_{1, std::nullopt, "203.0.113.9", "req-seo"};
  std::string dir_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<content::ContentService> content_;
  std::unique_ptr<SeoService> service_;
  std::vector<std::int64_t> changed_;
  std::int64_t site_a_ = 0, site_b_ = 0;
};

TEST_P(SeoServiceTest, EveryPageHasATitleAndADescriptionFromFallbacks) {
  auto home = svc().ResolvePublic(site_a_, "home");
  EXPECT_EQ(home.title, "Alpha Formation");
  EXPECT_EQ(home.description, "Courses in Lausanne since 1990.");
  EXPECT_EQ(home.robots, "index, follow");
  EXPECT_EQ(home.og.type, "website");
  EXPECT_EQ(home.og.title, home.title);
  EXPECT_EQ(home.og_site_name, "Alpha Formation");
  EXPECT_EQ(home.og_locale, "fr");
  EXPECT_EQ(home.twitter.card, "summary");

  // A site without a description falls back to its name.
  auto beta = svc().ResolvePublic(site_b_, "about");
  EXPECT_EQ(beta.title, "Beta");
  EXPECT_EQ(beta.description, "Beta");

  // Collections: their name, then the site's template; their description.
  std::vector<FieldError> warnings;
  SeoDefaults d;
  d.title_template = "%s | Alpha";
  d.description = "Default description.";
  d.og_image = "https://cdn.example.com/og.png";
  d.twitter_handle = "@alpha";
  svc().PutDefaults(origin_, site_a_, d, warnings);
  auto listing = svc().ResolvePublic(site_a_, "collection:formations");
  EXPECT_EQ(listing.title, "Formations | Alpha");
  EXPECT_EQ(listing.description, "Courses: dates, price, seats, place and status.");
  EXPECT_EQ(listing.og.image, "https://cdn.example.com/og.png");
  EXPECT_EQ(listing.twitter.card, "summary_large_image");
  EXPECT_EQ(listing.twitter_site, "@alpha");
  // The home page keeps the site's name untouched; about has no description of its own: the defaults'.
  EXPECT_EQ(svc().ResolvePublic(site_a_, "home").title, "Alpha Formation");
  EXPECT_EQ(svc().ResolvePublic(site_a_, "about").description, "Default description.");

  // Entries: the title field; the description field (markdown stripped), else the first text field.
  auto course =
      AddEntry(site_a_, "formations",
               {{"title", "Sécurité au travail"}, {"status", "active"}, {"description", "Un **cours** utile."}}, true);
  auto page = AddEntry(
      site_a_, "pages",
      {{"title", "Histoire"}, {"slug", "histoire"}, {"body", "# Nos débuts\n\nEn *1990*, tout a commencé."}}, true);
  auto r = svc().ResolvePublic(site_a_, "entry:formations/" + std::to_string(course.id));
  EXPECT_EQ(r.title, "Sécurité au travail | Alpha");
  EXPECT_EQ(r.description, "Un cours utile.");
  EXPECT_EQ(r.og.type, "article");
  auto r2 = svc().ResolvePublic(site_a_, "entry:pages/" + std::to_string(page.id));
  EXPECT_EQ(r2.description, "Nos débuts En 1990, tout a commencé.");

  // The page's own SEO wins over every fallback.
  svc().Put(origin_, site_a_, "entry:formations/" + std::to_string(course.id),
            Page({{"title", "Cours SST"}, {"description", "Own."}, {"open_graph", {{"image", "/media/1/a.png"}}}}));
  auto own = svc().ResolvePublic(site_a_, "entry:formations/" + std::to_string(course.id));
  EXPECT_EQ(own.title, "Cours SST | Alpha");
  EXPECT_EQ(own.description, "Own.");
  EXPECT_EQ(own.og.image, "/media/1/a.png");
  EXPECT_EQ(own.twitter.image, "/media/1/a.png");
}

TEST_P(SeoServiceTest, DraftsAndUnknownPagesAreNotPublic) {
  auto draft = AddEntry(site_a_, "formations", {{"title", "Brouillon"}, {"status", "active"}}, false);
  const auto key = "entry:formations/" + std::to_string(draft.id);
  EXPECT_EQ(StatusOf([&] { svc().ResolvePublic(site_a_, key); }), 404);
  // Editors still see and edit it.
  EXPECT_EQ(svc().Get(site_a_, key).resolved.title, "Brouillon");
  EXPECT_EQ(StatusOf([&] { svc().ResolvePublic(site_a_, "collection:nope"); }), 404);
  EXPECT_EQ(StatusOf([&] { svc().ResolvePublic(site_a_, "entry:formations/999999"); }), 404);
  EXPECT_EQ(StatusOf([&] { svc().ResolvePublic(999999, "home"); }), 404);
  // Another site's entry is not this site's (tenancy).
  auto other = AddEntry(site_b_, "formations", {{"title", "B"}, {"status", "active"}}, true);
  EXPECT_EQ(StatusOf([&] { svc().ResolvePublic(site_a_, "entry:formations/" + std::to_string(other.id)); }), 404);
  EXPECT_EQ(StatusOf([&] {
              svc().Put(origin_, site_a_, "entry:formations/" + std::to_string(other.id), Page({{"title", "x"}}));
            }),
            404);
  for (const std::string& bad : std::vector<std::string>{
           "", "homepage", "collection:", "collection:Bad", "entry:formations", "entry:formations/0",
           "entry:formations/01", "entry:formations/-1", "entry:/1", "entry:formations/1/2", "home\r\n",
           "collection:a'; DROP TABLE seo_pages;--", std::string("home\0", 5)}) {
    EXPECT_EQ(StatusOf([&] { svc().ResolvePublic(site_a_, bad); }), 400) << bad;
  }
}

TEST_P(SeoServiceTest, SavesWithWarningsAuditsAndEnqueuesTheRegeneration) {
  const std::string long_title(70, 't');
  auto view = svc().Put(origin_, site_a_, "home",
                        Page({{"title", long_title},
                              {"description", std::string(200, 'd')},
                              {"keywords", {"cours", "sécurité", "cours"}}}));
  EXPECT_TRUE(view.exists);
  EXPECT_EQ(view.stored.title, long_title) << "saved anyway";
  EXPECT_EQ(view.stored.keywords, (std::vector<std::string>{"cours", "sécurité"})) << "duplicates dropped";
  ASSERT_EQ(view.warnings.size(), 2u);
  EXPECT_EQ(view.warnings[0].field, "title");
  EXPECT_EQ(view.warnings[1].field, "description");
  EXPECT_EQ(changed_, (std::vector<std::int64_t>{site_a_}));

  auto again = svc().Get(site_a_, "home");
  EXPECT_EQ(again.stored.title, long_title);
  EXPECT_EQ(again.warnings.size(), 2u);

  audit::AuditFilter filter;
  filter.site_id = site_a_;
  auto entries = audit::AuditService(db()).List(filter);
  ASSERT_FALSE(entries.items.empty());
  EXPECT_EQ(entries.items[0].action, "seo.page.create");

  // The change enqueued its regeneration, keyed by site and generation.
  auto job = queue_->Claim("w", 60000, {std::string(kRegenerateJobKind)});
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->idempotency_key.value_or(""), "seo.regenerate:" + std::to_string(site_a_) + ":1");
  EXPECT_EQ(json::parse(job->payload)["site_id"], site_a_);

  svc().Delete(origin_, site_a_, "home");
  EXPECT_FALSE(svc().Get(site_a_, "home").exists);
  EXPECT_EQ(StatusOf([&] { svc().Delete(origin_, site_a_, "home"); }), 404);
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::Generation(s, site_a_); }), 2);
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::Generation(s, site_b_); }), 0);
}

TEST_P(SeoServiceTest, ListsStaticPagesCollectionsAndEntryPages) {
  auto e = AddEntry(site_a_, "formations", {{"title", "C1"}, {"status", "active"}}, true);
  svc().Put(origin_, site_a_, "entry:formations/" + std::to_string(e.id), Page({{"title", "Own"}}));
  auto items = svc().List(site_a_);
  std::vector<std::string> keys;
  for (const auto& v : items) keys.push_back(v.stored.page);
  EXPECT_EQ(keys, (std::vector<std::string>{"home", "about", "contact", "collection:formations", "collection:pages",
                                            "entry:formations/" + std::to_string(e.id)}));
  EXPECT_TRUE(items.back().exists);
  EXPECT_FALSE(items.front().exists);
  for (const auto& v : items) {
    EXPECT_FALSE(v.resolved.title.empty()) << v.stored.page;
    EXPECT_FALSE(v.resolved.description.empty()) << v.stored.page;
  }
  // Another site sees none of it.
  EXPECT_EQ(svc().List(site_b_).size(), 4u);
}

TEST_P(SeoServiceTest, SeoJsonAndItsFileWrittenAtomically) {
  auto published = AddEntry(site_a_, "formations", {{"title", "Publié"}, {"status", "active"}}, true);
  auto draft = AddEntry(site_a_, "formations", {{"title", "Brouillon"}, {"status", "active"}}, false);
  svc().Put(origin_, site_a_, "entry:formations/" + std::to_string(published.id), Page({{"title", "P"}}));
  svc().Put(origin_, site_a_, "entry:formations/" + std::to_string(draft.id), Page({{"title", "D"}}));
  svc().Put(
      origin_, site_a_, "about",
      Page({{"json_ld", {{"@context", "https://schema.org"}, {"@type", "Organization"}, {"name", "</script>"}}}}));

  auto doc = svc().SeoJson(site_a_);
  EXPECT_EQ(doc["site"]["slug"], "alpha");
  const auto& pages = doc["pages"];
  for (const char* key : {"home", "about", "contact", "collection:formations", "collection:pages"}) {
    EXPECT_TRUE(pages.contains(key)) << key;
  }
  EXPECT_TRUE(pages.contains("entry:formations/" + std::to_string(published.id)));
  EXPECT_FALSE(pages.contains("entry:formations/" + std::to_string(draft.id))) << "drafts never leave the admin";
  EXPECT_EQ(pages["about"]["json_ld"]["name"], "</script>");

  // Run the latest job: it writes the file; older generations do nothing.
  std::optional<jobs::Job> last;
  while (auto job = queue_->Claim("w", 60000, {std::string(kRegenerateJobKind)})) {
    if (!last || job->id > last->id) last = job;
    queue_->Complete(job->id, "w");
  }
  ASSERT_TRUE(last.has_value());
  jobs::Job stale = *last;
  stale.payload = json{{"site_id", site_a_}, {"generation", 1}}.dump();
  svc().RunRegenerateJob(stale);
  const auto path = svc().FilePath("alpha");
  EXPECT_EQ(path, dir_ + "/sites/alpha/seo.json");
  EXPECT_FALSE(std::filesystem::exists(path)) << "an older generation must not write";
  svc().RunRegenerateJob(*last);
  ASSERT_TRUE(std::filesystem::exists(path));
  const auto text = ReadFile(path);
  EXPECT_EQ(json::parse(text), doc);
  EXPECT_EQ(text.find("</script>"), std::string::npos) << "'<' is escaped in the file too";
  // Running it twice is harmless, and nothing but the file is left in the directory.
  svc().RunRegenerateJob(*last);
  int files = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir_ + "/sites/alpha")) {
    ++files;
    EXPECT_EQ(f.path().filename(), "seo.json");
  }
  EXPECT_EQ(files, 1);
  // A job for a deleted site or a bad payload.
  jobs::Job gone;
  gone.payload = json{{"site_id", 999999}}.dump();
  EXPECT_NO_THROW(svc().RunRegenerateJob(gone));
  jobs::Job bad;
  bad.payload = "not json";
  EXPECT_THROW(svc().RunRegenerateJob(bad), jobs::PermanentError);
}

// A renamed site's folder follows its slug: moved whole, or merged into a folder the new slug already has
// (whose files are the newer ones); a regeneration then writes under the new slug only.
TEST_P(SeoServiceTest, ARenamedSitesFilesFollowItsSlug) {
  const auto write = [&](const std::string& relative, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(dir_ + relative).parent_path());
    std::ofstream(dir_ + relative) << text;
  };
  write("/sites/alpha/seo.json", "old");
  write("/sites/alpha/extra.txt", "kept");
  MoveSiteFiles(dir_, "alpha", "omega");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/sites/alpha"));
  EXPECT_EQ(ReadFile(dir_ + "/sites/omega/seo.json"), "old");
  EXPECT_EQ(ReadFile(dir_ + "/sites/omega/extra.txt"), "kept");

  write("/sites/sigma/seo.json", "newer");  // a regeneration under the new slug ran first
  write("/sites/omega/seo.json", "older");
  write("/sites/omega/more.txt", "moved in");
  MoveSiteFiles(dir_, "omega", "sigma");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/sites/omega"));
  EXPECT_EQ(ReadFile(dir_ + "/sites/sigma/seo.json"), "newer");
  EXPECT_EQ(ReadFile(dir_ + "/sites/sigma/more.txt"), "moved in");

  // Nothing published yet, the same slug, or names that are not slugs: nothing moves, nothing throws.
  EXPECT_NO_THROW(MoveSiteFiles(dir_, "never-published", "elsewhere"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/sites/elsewhere"));
  MoveSiteFiles(dir_, "sigma", "sigma");
  MoveSiteFiles(dir_, "sigma", "../escaped");
  MoveSiteFiles(dir_, "../sites/sigma", "tau");
  EXPECT_EQ(ReadFile(dir_ + "/sites/sigma/seo.json"), "newer");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/escaped"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/sites/tau"));

  // After a rename has committed, the site's regeneration writes under its new slug.
  db().Write([&](soci::session& s) {
    sites::SitePatch rename;
    rename.slug = "alpha-renamed";
    ASSERT_TRUE(sites::store::Update(s, site_a_, rename, 2).has_value());
  });
  svc().ScheduleRegenerate(site_a_);  // as the app's site change listener does
  std::optional<jobs::Job> last;
  while (auto job = queue_->Claim("w", 60000, {std::string(kRegenerateJobKind)})) {
    if (json::parse(job->payload)["site_id"] == site_a_ && (!last || job->id > last->id)) last = job;
    queue_->Complete(job->id, "w");
  }
  ASSERT_TRUE(last.has_value());
  svc().RunRegenerateJob(*last);
  EXPECT_EQ(json::parse(ReadFile(svc().FilePath("alpha-renamed")))["site"]["slug"], "alpha-renamed");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/sites/alpha"));
}

TEST_P(SeoServiceTest, ScheduleRegenerateForOtherChanges) {
  svc().ScheduleRegenerate(site_b_);
  svc().ScheduleRegenerate(site_b_);
  svc().ScheduleRegenerate(999999);  // a deleted site: nothing
  int jobs = 0;
  while (auto job = queue_->Claim("w", 60000, {std::string(kRegenerateJobKind)})) {
    ++jobs;
    EXPECT_EQ(json::parse(job->payload)["site_id"], site_b_);
    queue_->Complete(job->id, "w");
  }
  EXPECT_EQ(jobs, 2);
}

TEST_P(SeoServiceTest, DefaultsRoundTripWithWarnings) {
  EXPECT_EQ(svc().GetDefaults(site_a_).title_template, "");
  std::vector<FieldError> errors;
  auto d = DefaultsFromJson(
      {{"title_template", "%s · Alpha"}, {"description", std::string(170, 'x')}, {"twitter_handle", "alpha_ch"}},
      errors);
  ASSERT_TRUE(errors.empty());
  std::vector<FieldError> warnings;
  auto stored = svc().PutDefaults(origin_, site_a_, d, warnings);
  EXPECT_EQ(stored.twitter_handle, "@alpha_ch");
  EXPECT_GT(stored.updated_at, 0);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].field, "description");
  EXPECT_EQ(svc().GetDefaults(site_a_).title_template, "%s · Alpha");
  EXPECT_EQ(svc().GetDefaults(site_b_).title_template, "") << "another site's defaults are its own";
  EXPECT_EQ(StatusOf([&] { svc().PutDefaults(origin_, 999999, d, warnings); }), 404);
}

POSTE_INSTANTIATE_DB_TEST(SeoServiceTest);

}  // namespace
}  // namespace poste::seo
