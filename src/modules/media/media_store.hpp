#pragma once
// SQL of the media tables (media, media_variants), every query scoped by site_id. Functions take the session
// of the caller's Database::Read or Write.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modules/media/media_types.hpp"

namespace soci {
class session;
}

namespace poste::media::store {

// Inserts the item unless the site already has one with the same sha256; the new id, or nullopt on that
// conflict (ON CONFLICT DO NOTHING: a PostgreSQL transaction is not aborted by it).
std::optional<std::int64_t> Insert(soci::session& s, const MediaItem& item);
std::optional<MediaItem> Get(soci::session& s, std::int64_t site_id, std::int64_t id);
std::optional<MediaItem> FindBySha(soci::session& s, std::int64_t site_id, const std::string& sha256);
// false when there is no such item.
bool UpdateText(soci::session& s, std::int64_t site_id, std::int64_t id, const MediaPatch& patch, std::int64_t now_ms);
bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id);
MediaPage List(soci::session& s, std::int64_t site_id, const ListFilter& filter);
// The site's library in numbers (the dashboard): items, and the originals' bytes.
struct Totals {
  std::int64_t count = 0;
  std::int64_t bytes = 0;
};
Totals CountTotals(soci::session& s, std::int64_t site_id);
// Replaces the item's derived sizes; false, changing nothing, when the item is not the site's.
bool ReplaceVariants(soci::session& s, std::int64_t site_id, std::int64_t media_id,
                     const std::vector<Variant>& variants);

}  // namespace poste::media::store
