#include "modules/media/media_refs_store.hpp"

#include <soci/soci.h>

#include <set>

#include "db/query.hpp"

namespace poste::media::store {

void ReplaceRefs(soci::session& s, std::int64_t site_id, std::string_view owner_type, std::int64_t owner_id,
                 const std::vector<std::int64_t>& media_ids) {
  DeleteRefs(s, site_id, owner_type, owner_id);
  const std::string type(owner_type);
  const long long site = site_id, owner = owner_id;
  for (std::int64_t id : std::set<std::int64_t>(media_ids.begin(), media_ids.end())) {
    const long long media = id;
    s << "INSERT INTO media_refs (site_id, media_id, owner_type, owner_id) VALUES (:site, :media, :type, :owner)",
        soci::use(site), soci::use(media), soci::use(type), soci::use(owner);
  }
}

void DeleteRefs(soci::session& s, std::int64_t site_id, std::string_view owner_type, std::int64_t owner_id) {
  const std::string type(owner_type);
  const long long site = site_id, owner = owner_id;
  s << "DELETE FROM media_refs WHERE site_id = :site AND owner_type = :type AND owner_id = :owner", soci::use(site),
      soci::use(type), soci::use(owner);
}

std::vector<MediaRef> RefsTo(soci::session& s, std::int64_t site_id, std::int64_t media_id) {
  const long long site = site_id, media = media_id;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT owner_type, owner_id FROM media_refs WHERE site_id = :site AND media_id = :media"
                    " ORDER BY owner_type, owner_id",
       soci::use(site), soci::use(media));
  std::vector<MediaRef> out;
  for (const auto& row : rows) {
    out.push_back({site_id, media_id, row.get<std::string>(0), static_cast<std::int64_t>(row.get<long long>(1))});
  }
  return out;
}

std::vector<std::int64_t> ExistingMediaIds(soci::session& s, std::int64_t site_id,
                                           const std::vector<std::int64_t>& media_ids) {
  std::vector<std::int64_t> out;
  if (media_ids.empty()) return out;
  db::Query q(s);
  long long id = 0;
  q.Into(id);
  const std::set<std::int64_t> unique(media_ids.begin(), media_ids.end());
  std::string sql =
      "SELECT id FROM media WHERE site_id = " + q.Int(site_id) + " AND id IN (" + q.IntList(unique) + ") ORDER BY id";
  if (q.Execute(sql)) {
    do {
      out.push_back(id);
    } while (q.Fetch());
  }
  return out;
}

}  // namespace poste::media::store
