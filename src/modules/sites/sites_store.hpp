#pragma once
// The sites, site_domains and site_settings tables: SQL and nothing else. Every function runs on a session
// the caller got from Database::Write (or Read for the queries), so that a service writes the change and its
// audit row in one transaction. Every function that touches a site's rows takes the site id and filters by it.
// Times are passed in (epoch ms). Input is stored as given (domains normalised): validation is in
// sites_types.hpp and is the caller's job.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/sites/sites_types.hpp"

namespace soci {
class session;
}

namespace poste::sites::store {

// The new site's id. A slug already used throws AppError::Conflict with field "slug"; a domain served by
// another site throws AppError::Conflict with field "domains" whose message names the domain.
std::int64_t Insert(soci::session& s, const NewSite& site, std::int64_t now_ms);

std::optional<Site> GetById(soci::session& s, std::int64_t id);
std::optional<Site> GetBySlug(soci::session& s, std::string_view slug);
// The {site} of a path: all digits = an id (slugs are never only digits), anything else = a slug.
std::optional<Site> GetByIdOrSlug(soci::session& s, std::string_view id_or_slug);
// The site a request's host name belongs to (normalised here: case and a trailing dot do not matter).
std::optional<Site> FindByDomain(soci::session& s, std::string_view domain);

struct ListOptions {
  int limit = 50;                      // clamped to 1..kMaxListLimit
  std::optional<std::int64_t> cursor;  // the next_cursor of the previous page: sites with a smaller id
  // Only these sites (an editor's assigned sites); an empty list gives an empty page. Absent: every site.
  std::optional<std::vector<std::int64_t>> site_ids;
};
inline constexpr int kMaxListLimit = 200;

struct SitePage {
  std::vector<Site> items;                  // newest (highest id) first
  std::optional<std::int64_t> next_cursor;  // set when more sites follow
};
SitePage List(soci::session& s, const ListOptions& options);

// Applies the fields the patch sets and returns the site as stored, or nullopt when there is no such site.
// patch.domains replaces the whole set; conflicts as for Insert.
std::optional<Site> Update(soci::session& s, std::int64_t id, const SitePatch& patch, std::int64_t now_ms);

// Its domains, settings and user assignments go with it; users and audit rows stay.
bool Delete(soci::session& s, std::int64_t id);

// Settings, ordered by key.
std::vector<Setting> ListSettings(soci::session& s, std::int64_t site_id);
std::optional<Setting> GetSetting(soci::session& s, std::int64_t site_id, const std::string& key);
// Inserts or replaces. When secret, value is already sealed by the caller. False when there is no such site.
bool PutSetting(soci::session& s, std::int64_t site_id, const std::string& key, const std::string& value, bool secret,
                std::int64_t now_ms);
bool DeleteSetting(soci::session& s, std::int64_t site_id, const std::string& key);

}  // namespace poste::sites::store
