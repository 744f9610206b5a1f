#include "modules/dashboard/dashboard_store.hpp"

#include <soci/soci.h>

namespace poste::dashboard::store {

std::vector<CollectionCounts> EntryCounts(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  std::string slug, name, status;
  soci::indicator status_ind = soci::i_null;
  long long count = 0;
  soci::statement st =
      (s.prepare << "SELECT c.slug, c.name, e.status, COUNT(e.id) FROM collections c"
                    " LEFT JOIN entries e ON e.collection_id = c.id AND e.site_id = c.site_id"
                    " WHERE c.site_id = :site GROUP BY c.id, c.slug, c.name, e.status ORDER BY c.slug, e.status",
       soci::use(site), soci::into(slug), soci::into(name), soci::into(status, status_ind), soci::into(count));
  st.execute();
  std::vector<CollectionCounts> out;
  while (st.fetch()) {
    if (out.empty() || out.back().slug != slug) out.push_back({slug, name, 0, 0, 0});
    if (status_ind != soci::i_ok) continue;  // a collection without entries
    auto& c = out.back();
    if (status == "draft") c.draft = count;
    if (status == "published") c.published = count;
    if (status == "archived") c.archived = count;
  }
  return out;
}

MediaTotals Media(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long count = 0, bytes = 0;
  s << "SELECT COUNT(*), CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM media WHERE site_id = :site",
      soci::use(site), soci::into(count), soci::into(bytes);
  return {count, bytes};
}

}  // namespace poste::dashboard::store
