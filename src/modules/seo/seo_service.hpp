#pragma once
// The SEO module's domain logic: a site's per-page metadata and defaults, the fallbacks that give every page a
// title and a description, and the site's seo.json. No HTTP here: seo_routes.cpp parses and serialises.
//
// Fallbacks, first non-empty wins:
//   title:       the page's title -> the entry's title / name field -> the collection's name -> the site's name;
//                then the defaults' title template ("%s | Site"), except on the home page and for the site name
//   description: the page's -> the entry's description / excerpt / summary field, else an excerpt of its first
//                text field -> the collection's description -> the defaults' -> the site's description -> the
//                site's name
//   Open Graph and Twitter: their own fields -> the resolved title / description; images -> the defaults'
//                og_image; card: summary_large_image when there is an image, else summary
//   robots: "index, follow"; og type: "article" for entries, "website" elsewhere.
//
// seo.json: {site, defaults, pages: {key: resolved}} for home, about, contact, every collection's listing and
// every published entry with its own SEO. Each change (of SEO here, of the site, of its content) enqueues a
// "seo.regenerate" job in a transaction, keyed by site and generation; the job writes
// <data.dir>/sites/<slug>/seo.json atomically (temporary file, fsync, rename) for static hosting.
//
// Every member blocks (SQL, files): call it through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/audit/audit_types.hpp"
#include "modules/seo/seo_types.hpp"

namespace soci {
class session;
}
namespace poste::db {
class Database;
}
namespace poste::jobs {
class JobQueue;
struct Job;
}  // namespace poste::jobs
namespace poste::content {
class ContentService;
}
namespace poste::seo {

inline constexpr std::string_view kRegenerateJobKind = "seo.regenerate";

// A page as editors see it: what is stored (empty fields when nothing is), the result of the fallbacks, and
// the warnings of what is stored.
struct PageView {
  PageSeo stored;
  bool exists = false;  // whether the page has stored SEO
  ResolvedSeo resolved;
  std::vector<FieldError> warnings;
};

// <data_dir>/sites/<slug>/seo.json: where a site's seo.json is written for static hosting.
std::string SeoFilePath(const std::string& data_dir, std::string_view site_slug);
// After a site's deletion has committed: removes its folder <data_dir>/sites/<slug>/ (seo.json and anything
// else written there for static hosting). Failures are logged, never thrown: the site is gone either way. A
// slug that could name anything but one folder under sites/ is refused (logged).
void ForgetSiteFiles(const std::string& data_dir, std::string_view site_slug);
// After a site's slug change has committed: moves its folder <data_dir>/sites/<from>/ to sites/<to>/, so that
// what is published for static hosting follows the slug (the regeneration the change schedules then rewrites
// seo.json there). When sites/<to>/ exists already (a regeneration ran first, or a deleted site's folder could
// not be removed), what it holds is kept and the old folder's other entries are moved in. Nothing to move is
// not an error; failures are logged, never thrown: the change stands either way. Slugs that could name
// anything but one folder under sites/ are refused (logged).
void MoveSiteFiles(const std::string& data_dir, std::string_view from_slug, std::string_view to_slug);

class SeoService {
 public:
  using Clock = std::function<std::int64_t()>;  // epoch ms
  // data_dir: where sites/<slug>/seo.json are written.
  SeoService(db::Database& db, jobs::JobQueue& queue, content::ContentService& content, std::string data_dir,
             Clock now_ms = {});

  // Called with the site's id after every committed SEO change: the public read cache drops the site's answers.
  // Set once while wiring.
  std::function<void(std::int64_t site_id)> on_changed;

  // home, about, contact, every collection's listing, then every other page with stored SEO (entries).
  std::vector<PageView> List(std::int64_t site_id);
  // 400 on a malformed key; 404 when the page's collection or entry does not exist (any status).
  PageView Get(std::int64_t site_id, std::string_view page_key);
  // Replaces the page's SEO. 400 / 404 as for Get; 422 with field errors. Returns the page with its warnings.
  PageView Put(const audit::Origin& origin, std::int64_t site_id, std::string_view page_key, PageSeo page);
  // 404 when the page has no stored SEO.
  void Delete(const audit::Origin& origin, std::int64_t site_id, std::string_view page_key);

  // Empty fields when never set.
  SeoDefaults GetDefaults(std::int64_t site_id);
  // Replaces the defaults; warnings in `warnings`. 422 with field errors.
  SeoDefaults PutDefaults(const audit::Origin& origin, std::int64_t site_id, const SeoDefaults& defaults,
                          std::vector<FieldError>& warnings);

  // What the public sees: 400 on a malformed key; 404 when the collection does not exist, or the entry does not
  // exist or is not published.
  ResolvedSeo ResolvePublic(std::int64_t site_id, std::string_view page_key);
  // The seo.json document (404 when there is no such site).
  nlohmann::json SeoJson(std::int64_t site_id);

  // For changes made elsewhere (the site's fields, its content): counts a generation and enqueues the
  // regeneration, in its own transaction. Does nothing for a site that no longer exists. Run it after the
  // change has committed.
  void ScheduleRegenerate(std::int64_t site_id);
  // The handler of kRegenerateJobKind jobs ({"site_id", "generation"}): writes the site's seo.json file. A job
  // of an older generation than the site's current one does nothing (a newer job follows), and so does one of
  // a deleted site: running a job twice is harmless.
  void RunRegenerateJob(const jobs::Job& job);
  // <data_dir>/sites/<slug>/seo.json.
  std::string FilePath(std::string_view site_slug) const { return SeoFilePath(data_dir_, site_slug); }

 private:
  struct Context;
  struct SiteSeo;
  SiteSeo LoadSite(std::int64_t site_id);
  Context Load(std::int64_t site_id, const PageKey& key, bool public_only);
  ResolvedSeo Resolve(const Context& ctx) const;
  // Under the caller's transaction: counts a generation and enqueues its job.
  void EnqueueRegenerate(soci::session& s, std::int64_t site_id);
  void Committed(std::int64_t site_id);

  db::Database& db_;
  jobs::JobQueue& queue_;
  content::ContentService& content_;
  std::string data_dir_;
  Clock now_ms_;
};

}  // namespace poste::seo
