#pragma once
// The seo_pages and seo_defaults tables: SQL and nothing else. Every function takes the site id and filters
// by it; every one runs on a session from Database::Read or Write, so that the service writes a change, its
// audit row and its seo.json job in one transaction. Input is stored as given: validation is in
// seo_types.hpp and is the caller's job.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modules/seo/seo_types.hpp"

namespace soci {
class session;
}

namespace poste::seo::store {

// A site's stored pages, ordered by key; at most kMaxListedPages.
inline constexpr int kMaxListedPages = 5000;
std::vector<PageSeo> ListPages(soci::session& s, std::int64_t site_id);
std::optional<PageSeo> GetPage(soci::session& s, std::int64_t site_id, const std::string& page);
// Inserts or replaces the page (page.page is the key); created_at is kept on a replace.
void PutPage(soci::session& s, std::int64_t site_id, const PageSeo& page, std::int64_t now_ms);
bool DeletePage(soci::session& s, std::int64_t site_id, const std::string& page);

std::optional<SeoDefaults> GetDefaults(soci::session& s, std::int64_t site_id);
void PutDefaults(soci::session& s, std::int64_t site_id, const SeoDefaults& defaults, std::int64_t now_ms);

// Counts one more change of the site's SEO and returns the new generation (1 for the first).
std::int64_t BumpGeneration(soci::session& s, std::int64_t site_id);
// The site's current generation (0 before any change).
std::int64_t Generation(soci::session& s, std::int64_t site_id);

}  // namespace poste::seo::store
