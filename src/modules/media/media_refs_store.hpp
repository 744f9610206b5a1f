#pragma once
// Which objects use which media item (table media_refs). Owners (entries, later site logos and mail) call
// ReplaceRefs in the transaction that saves them and DeleteRefs in the one that deletes them; the media module
// reads RefsTo to list an item's uses and to refuse deleting an item in use without force.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace soci {
class session;
}

namespace poste::media::store {

struct MediaRef {
  std::int64_t site_id = 0;
  std::int64_t media_id = 0;
  std::string owner_type;  // "entry", ...
  std::int64_t owner_id = 0;
};

// The owner now uses exactly `media_ids` (duplicates ignored) on site_id.
void ReplaceRefs(soci::session& s, std::int64_t site_id, std::string_view owner_type, std::int64_t owner_id,
                 const std::vector<std::int64_t>& media_ids);
void DeleteRefs(soci::session& s, std::int64_t site_id, std::string_view owner_type, std::int64_t owner_id);
// The uses of a media item of site_id, ordered by owner type and id.
std::vector<MediaRef> RefsTo(soci::session& s, std::int64_t site_id, std::int64_t media_id);
// Which of `media_ids` are media items of site_id (sorted, without duplicates): owners check references with it
// before ReplaceRefs, since media_refs.media_id references media (id) and an unknown id would fail the insert.
std::vector<std::int64_t> ExistingMediaIds(soci::session& s, std::int64_t site_id,
                                           const std::vector<std::int64_t>& media_ids);

}  // namespace poste::media::store
