#pragma once
// Aggregates for a site's dashboard: SQL and nothing else, every query filtered by the site. The content and
// media modules expose no counting functions yet, so the two aggregates below read their tables (entries,
// collections, media) directly, read-only; contacts and the audit log are read through their own stores.
#include <cstdint>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace poste::dashboard::store {

struct CollectionCounts {
  std::string slug;
  std::string name;
  std::int64_t draft = 0, published = 0, archived = 0;
};
// Every collection of the site (ordered by slug), with its entries counted by status.
std::vector<CollectionCounts> EntryCounts(soci::session& s, std::int64_t site_id);

struct MediaTotals {
  std::int64_t count = 0;
  std::int64_t bytes = 0;  // the originals' sizes
};
MediaTotals Media(soci::session& s, std::int64_t site_id);

}  // namespace poste::dashboard::store
