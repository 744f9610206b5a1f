#include "modules/media/media_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <functional>
#include <map>

#include "db/dialect.hpp"
#include "db/like.hpp"
#include "db/query.hpp"

namespace poste::media::store {
namespace {

using db::Query;

constexpr const char* kColumns =
    "id, site_id, sha256, ext, content_type, family, size_bytes, filename, width, height, alt, caption, created_by,"
    " created_at, updated_at";

// The into() targets of kColumns.
struct Row {
  long long id = 0, site_id = 0, size = 0, created_by = 0, created_at = 0, updated_at = 0;
  int width = 0, height = 0;
  soci::indicator width_ind = soci::i_ok, height_ind = soci::i_ok, created_by_ind = soci::i_ok;
  MediaItem item;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(item.sha256);
    q.Into(item.ext);
    q.Into(item.content_type);
    q.Into(item.family);
    q.Into(size);
    q.Into(item.filename);
    q.Into(width, width_ind);
    q.Into(height, height_ind);
    q.Into(item.alt);
    q.Into(item.caption);
    q.Into(created_by, created_by_ind);
    q.Into(created_at);
    q.Into(updated_at);
  }
  MediaItem Get() const {
    MediaItem out = item;
    out.id = id, out.site_id = site_id, out.size_bytes = size, out.created_at = created_at, out.updated_at = updated_at;
    if (width_ind == soci::i_ok) out.width = width;
    if (height_ind == soci::i_ok) out.height = height;
    if (created_by_ind == soci::i_ok) out.created_by = created_by;
    return out;
  }
};

// Fills the variants of `items` in one query.
void LoadVariants(soci::session& s, std::vector<MediaItem>& items) {
  if (items.empty()) return;
  Query q(s);
  std::vector<std::int64_t> ids;
  for (const auto& i : items) ids.push_back(i.id);
  long long media_id = 0, size = 0;
  int width = 0, height = 0;
  std::string sql = "SELECT media_id, width, height, size_bytes FROM media_variants WHERE media_id IN (" +
                    q.IntList(ids) + ") ORDER BY media_id, width";
  q.Into(media_id);
  q.Into(width);
  q.Into(height);
  q.Into(size);
  std::map<std::int64_t, std::vector<Variant>> by_id;
  if (q.Execute(sql)) {
    do {
      by_id[media_id].push_back({width, height, size});
    } while (q.Fetch());
  }
  for (auto& i : items) {
    if (auto it = by_id.find(i.id); it != by_id.end()) i.variants = it->second;
  }
}

std::optional<MediaItem> GetWhere(soci::session& s, std::int64_t site_id, const std::string& condition,
                                  const std::function<std::string(Query&)>& bind) {
  Query q(s);
  Row row;
  row.BindTo(q);
  std::string sql = std::string("SELECT ") + kColumns + " FROM media WHERE site_id = " + q.Int(site_id) + " AND " +
                    condition + " = " + bind(q);
  if (!q.Execute(sql)) return std::nullopt;
  std::vector<MediaItem> items{row.Get()};
  LoadVariants(s, items);
  return std::move(items.front());
}

}  // namespace

std::optional<std::int64_t> Insert(soci::session& s, const MediaItem& item) {
  Query q(s);
  long long id = 0;
  std::string sql =
      "INSERT INTO media (site_id, sha256, ext, content_type, family, size_bytes, filename, width, height, alt,"
      " caption, created_by, created_at, updated_at) VALUES (" +
      q.Int(item.site_id) + ", " + q.Text(item.sha256) + ", " + q.Text(item.ext) + ", " + q.Text(item.content_type) +
      ", " + q.Text(item.family) + ", " + q.Int(item.size_bytes) + ", " + q.Text(item.filename) + ", " +
      q.Int(item.width ? std::optional<std::int64_t>(*item.width) : std::nullopt) + ", " +
      q.Int(item.height ? std::optional<std::int64_t>(*item.height) : std::nullopt) + ", " + q.Text(item.alt) + ", " +
      q.Text(item.caption) + ", " + q.Int(item.created_by) + ", " + q.Int(item.created_at) + ", " +
      q.Int(item.updated_at) + ") ON CONFLICT (site_id, sha256) DO NOTHING RETURNING id";
  q.Into(id);
  if (!q.Execute(sql)) return std::nullopt;
  return id;
}

std::optional<MediaItem> Get(soci::session& s, std::int64_t site_id, std::int64_t id) {
  return GetWhere(s, site_id, "id", [&](Query& q) { return q.Int(id); });
}

std::optional<MediaItem> FindBySha(soci::session& s, std::int64_t site_id, const std::string& sha256) {
  return GetWhere(s, site_id, "sha256", [&](Query& q) { return q.Text(sha256); });
}

bool UpdateText(soci::session& s, std::int64_t site_id, std::int64_t id, const MediaPatch& patch, std::int64_t now_ms) {
  Query q(s);
  std::string sql = "UPDATE media SET updated_at = " + q.Int(now_ms);
  if (patch.alt) sql += ", alt = " + q.Text(*patch.alt);
  if (patch.caption) sql += ", caption = " + q.Text(*patch.caption);
  long long found = 0;
  q.Into(found);
  sql += " WHERE site_id = " + q.Int(site_id) + " AND id = " + q.Int(id) + " RETURNING id";
  return q.Execute(sql);
}

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id) {
  Query q(s);
  long long found = 0;
  q.Into(found);
  return q.Execute("DELETE FROM media WHERE site_id = " + q.Int(site_id) + " AND id = " + q.Int(id) + " RETURNING id");
}

MediaPage List(soci::session& s, std::int64_t site_id, const ListFilter& f) {
  const int limit = std::clamp(f.limit, 1, kMaxListLimit);
  Query q(s);
  Row row;
  row.BindTo(q);
  std::string sql = std::string("SELECT ") + kColumns + " FROM media WHERE site_id = " + q.Int(site_id);
  if (f.family) sql += " AND family = " + q.Text(*f.family);
  if (f.from_ms) sql += " AND created_at >= " + q.Int(*f.from_ms);
  if (f.to_ms) sql += " AND created_at < " + q.Int(*f.to_ms);
  if (f.q && !f.q->empty()) {
    const std::string like(db::CaseInsensitiveLike(db::DialectOf(s)));
    const std::string pattern = db::ContainsPattern(*f.q);
    sql += " AND (filename " + like + " " + q.Text(pattern) + " ESCAPE '\\' OR alt " + like + " " + q.Text(pattern) +
           " ESCAPE '\\')";
  }
  auto page = db::NewestFirst<MediaPage>(q, std::move(sql), f.cursor, limit, [&] { return row.Get(); });
  LoadVariants(s, page.items);
  return page;
}

bool ReplaceVariants(soci::session& s, std::int64_t site_id, std::int64_t media_id,
                     const std::vector<Variant>& variants) {
  const long long media = media_id, site = site_id;
  // media_variants has no site_id of its own: its rows are reached through the site's media item, checked first.
  long long found = 0;
  s << "SELECT id FROM media WHERE id = :media AND site_id = :site", soci::use(media), soci::use(site),
      soci::into(found);
  if (!s.got_data()) return false;
  s << "DELETE FROM media_variants WHERE media_id = :media", soci::use(media);
  for (const auto& v : variants) {
    const long long size = v.size_bytes;
    const int width = v.width, height = v.height;
    s << "INSERT INTO media_variants (media_id, width, height, size_bytes) VALUES (:media, :width, :height, :size)",
        soci::use(media), soci::use(width), soci::use(height), soci::use(size);
  }
  return true;
}

Totals CountTotals(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long count = 0, bytes = 0;
  s << "SELECT COUNT(*), CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM media WHERE site_id = :site",
      soci::use(site), soci::into(count), soci::into(bytes);
  return {count, bytes};
}

}  // namespace poste::media::store
