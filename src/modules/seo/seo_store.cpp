#include "modules/seo/seo_store.hpp"

#include <soci/soci.h>

#include "db/query.hpp"

namespace poste::seo::store {

namespace {

using db::Query;

constexpr const char* kPageColumns =
    "page, title, description, keywords, canonical_url, robots, og_title, og_description, og_image, og_type,"
    " twitter_card, twitter_title, twitter_description, twitter_image, json_ld, created_at, updated_at";

struct PageRow {
  PageSeo p;
  std::string keywords;
  long long created_at = 0, updated_at = 0;

  void BindTo(Query& q) {
    q.Into(p.page);
    q.Into(p.title);
    q.Into(p.description);
    q.Into(keywords);
    q.Into(p.canonical_url);
    q.Into(p.robots);
    q.Into(p.og.title);
    q.Into(p.og.description);
    q.Into(p.og.image);
    q.Into(p.og.type);
    q.Into(p.twitter.card);
    q.Into(p.twitter.title);
    q.Into(p.twitter.description);
    q.Into(p.twitter.image);
    q.Into(p.json_ld);
    q.Into(created_at);
    q.Into(updated_at);
  }
  PageSeo Get() const {
    PageSeo out = p;
    out.created_at = created_at, out.updated_at = updated_at;
    out.keywords.clear();
    auto json = nlohmann::json::parse(keywords, nullptr, false);
    if (json.is_array()) {
      for (const auto& k : json) {
        if (k.is_string()) out.keywords.push_back(k.get<std::string>());
      }
    }
    return out;
  }
};

}  // namespace

std::vector<PageSeo> ListPages(soci::session& s, std::int64_t site_id) {
  Query q(s);
  PageRow row;
  row.BindTo(q);
  const std::string sql = std::string("SELECT ") + kPageColumns + " FROM seo_pages WHERE site_id = " + q.Int(site_id) +
                          " ORDER BY page LIMIT " + q.Int(kMaxListedPages);
  std::vector<PageSeo> out;
  if (!q.Execute(sql)) return out;
  do {
    out.push_back(row.Get());
  } while (q.Fetch());
  return out;
}

std::optional<PageSeo> GetPage(soci::session& s, std::int64_t site_id, const std::string& page) {
  Query q(s);
  PageRow row;
  row.BindTo(q);
  const std::string sql = std::string("SELECT ") + kPageColumns + " FROM seo_pages WHERE site_id = " + q.Int(site_id) +
                          " AND page = " + q.Text(page);
  if (!q.Execute(sql)) return std::nullopt;
  return row.Get();
}

void PutPage(soci::session& s, std::int64_t site_id, const PageSeo& p, std::int64_t now_ms) {
  const long long site = site_id, now = now_ms;
  const std::string keywords = nlohmann::json(p.keywords).dump();
  s << "INSERT INTO seo_pages (site_id, page, title, description, keywords, canonical_url, robots, og_title,"
       " og_description, og_image, og_type, twitter_card, twitter_title, twitter_description, twitter_image,"
       " json_ld, created_at, updated_at) VALUES (:site, :page, :title, :description, :keywords, :canonical,"
       " :robots, :og_title, :og_description, :og_image, :og_type, :tw_card, :tw_title, :tw_description,"
       " :tw_image, :json_ld, :created, :updated)"
       " ON CONFLICT (site_id, page) DO UPDATE SET title = excluded.title, description = excluded.description,"
       " keywords = excluded.keywords, canonical_url = excluded.canonical_url, robots = excluded.robots,"
       " og_title = excluded.og_title, og_description = excluded.og_description, og_image = excluded.og_image,"
       " og_type = excluded.og_type, twitter_card = excluded.twitter_card, twitter_title = excluded.twitter_title,"
       " twitter_description = excluded.twitter_description, twitter_image = excluded.twitter_image,"
       " json_ld = excluded.json_ld, updated_at = excluded.updated_at",
      soci::use(site), soci::use(p.page), soci::use(p.title), soci::use(p.description), soci::use(keywords),
      soci::use(p.canonical_url), soci::use(p.robots), soci::use(p.og.title), soci::use(p.og.description),
      soci::use(p.og.image), soci::use(p.og.type), soci::use(p.twitter.card), soci::use(p.twitter.title),
      soci::use(p.twitter.description), soci::use(p.twitter.image), soci::use(p.json_ld), soci::use(now),
      soci::use(now);
}

bool DeletePage(soci::session& s, std::int64_t site_id, const std::string& page) {
  const long long site = site_id;
  long long matched = 0;
  s << "DELETE FROM seo_pages WHERE site_id = :site AND page = :page RETURNING site_id", soci::use(site),
      soci::use(page), soci::into(matched);
  return s.got_data();
}

std::optional<SeoDefaults> GetDefaults(soci::session& s, std::int64_t site_id) {
  Query q(s);
  SeoDefaults d;
  long long updated_at = 0;
  q.Into(d.title_template);
  q.Into(d.description);
  q.Into(d.og_image);
  q.Into(d.twitter_handle);
  q.Into(updated_at);
  const std::string sql =
      "SELECT title_template, description, og_image, twitter_handle, updated_at FROM seo_defaults WHERE site_id = " +
      q.Int(site_id);
  if (!q.Execute(sql)) return std::nullopt;
  d.updated_at = updated_at;
  return d;
}

void PutDefaults(soci::session& s, std::int64_t site_id, const SeoDefaults& d, std::int64_t now_ms) {
  const long long site = site_id, now = now_ms;
  s << "INSERT INTO seo_defaults (site_id, title_template, description, og_image, twitter_handle, updated_at)"
       " VALUES (:site, :template, :description, :og_image, :handle, :updated)"
       " ON CONFLICT (site_id) DO UPDATE SET title_template = excluded.title_template,"
       " description = excluded.description, og_image = excluded.og_image,"
       " twitter_handle = excluded.twitter_handle, updated_at = excluded.updated_at",
      soci::use(site), soci::use(d.title_template), soci::use(d.description), soci::use(d.og_image),
      soci::use(d.twitter_handle), soci::use(now);
}

std::int64_t BumpGeneration(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long generation = 0;
  // The first change of a site creates its row with empty defaults (updated_at 0: never edited).
  s << "INSERT INTO seo_defaults (site_id, generation, updated_at) VALUES (:site, 1, 0)"
       " ON CONFLICT (site_id) DO UPDATE SET generation = seo_defaults.generation + 1 RETURNING generation",
      soci::use(site), soci::into(generation);
  return generation;
}

std::int64_t Generation(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long generation = 0;
  s << "SELECT generation FROM seo_defaults WHERE site_id = :site", soci::use(site), soci::into(generation);
  return s.got_data() ? generation : 0;
}

}  // namespace poste::seo::store
