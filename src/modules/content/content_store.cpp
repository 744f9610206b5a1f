#include "modules/content/content_store.hpp"

#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "db/dialect.hpp"
#include "db/query.hpp"
#include "lib/error.hpp"
#include "lib/json_dump.hpp"
#include "modules/content/content_rows.hpp"

namespace poste::content::store {
namespace {

using db::Query;

constexpr const char* kCollectionColumns =
    "id, site_id, slug, name, description, fields, preset, created_at, updated_at";

struct CollectionRow {
  long long id = 0, site_id = 0, created_at = 0, updated_at = 0;
  std::string slug, name, description, fields, preset;
  soci::indicator preset_ind = soci::i_ok;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(slug);
    q.Into(name);
    q.Into(description);
    q.Into(fields);
    q.Into(preset, preset_ind);
    q.Into(created_at);
    q.Into(updated_at);
  }
  Collection Get() const {
    Collection c;
    c.id = id, c.site_id = site_id, c.slug = slug, c.name = name, c.description = description;
    c.created_at = created_at, c.updated_at = updated_at;
    if (preset_ind == soci::i_ok) c.preset = preset;
    std::vector<FieldError> ignored;  // written by this store from validated definitions
    c.fields = FieldsFromJson(nlohmann::json::parse(fields, nullptr, false), ignored);
    return c;
  }
};

std::string SearchValue(soci::session& s, Query& q, const std::string& text, const std::string& language) {
  if (db::DialectOf(s) == db::Dialect::kPostgres) {
    return "to_tsvector(CAST(" + q.Text(language) + " AS regconfig), " + q.Text(text) + ")";
  }
  return {};
}

std::optional<Entry> EntryWhere(soci::session& s, Query& q, const Collection& c, const std::string& condition,
                                bool lock = false) {
  EntryRow row;
  row.BindTo(q);
  const std::string sql = "SELECT " + std::string(kEntryColumns) +
                          " FROM entries e WHERE e.collection_id = " + q.Int(c.id) +
                          " AND e.site_id = " + q.Int(c.site_id) + " AND " + condition +
                          std::string(lock ? db::ForUpdate(db::DialectOf(s)) : "");
  if (!q.Execute(sql)) return std::nullopt;
  return row.Get(c);
}

}  // namespace

std::vector<Collection> ListCollections(soci::session& s, std::int64_t site_id) {
  Query q(s);
  CollectionRow row;
  row.BindTo(q);
  std::vector<Collection> out;
  if (q.Execute("SELECT " + std::string(kCollectionColumns) + " FROM collections WHERE site_id = " + q.Int(site_id) +
                " ORDER BY slug")) {
    do {
      out.push_back(row.Get());
    } while (q.Fetch());
  }
  return out;
}

std::optional<Collection> GetCollection(soci::session& s, std::int64_t site_id, std::string_view slug, bool lock) {
  Query q(s);
  CollectionRow row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kCollectionColumns) + " FROM collections WHERE site_id = " + q.Int(site_id) +
                 " AND slug = " + q.Text(std::string(slug)) +
                 std::string(lock ? db::ForUpdate(db::DialectOf(s)) : ""))) {
    return std::nullopt;
  }
  return row.Get();
}

std::int64_t CountCollections(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long n = 0;
  s << "SELECT COUNT(*) FROM collections WHERE site_id = :site", soci::use(site), soci::into(n);
  return n;
}

std::int64_t InsertCollection(soci::session& s, std::int64_t site_id, const std::string& slug, const std::string& name,
                              const std::string& description, const std::vector<FieldDef>& fields,
                              const std::optional<std::string>& preset, std::int64_t now_ms) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  const std::string sql =
      "INSERT INTO collections (site_id, slug, name, description, fields, preset, created_at, updated_at) VALUES (" +
      q.Int(site_id) + ", " + q.Text(slug) + ", " + q.Text(name) + ", " + q.Text(description) + ", " +
      q.Text(DumpJson(FieldsToJson(fields))) + ", " + (preset ? q.Text(*preset) : std::string("NULL")) + ", " +
      q.Int(now_ms) + ", " + q.Int(now_ms) + ") ON CONFLICT (site_id, slug) DO NOTHING RETURNING id";
  if (!q.Execute(sql)) {
    throw AppError::Conflict("The site already has a collection with this slug.",
                             {{"slug", "taken", "this slug is already used by another collection of the site"}});
  }
  return id;
}

void UpdateCollection(soci::session& s, std::int64_t site_id, std::int64_t collection_id, const std::string& name,
                      const std::string& description, const std::vector<FieldDef>& fields, std::int64_t now_ms) {
  const long long id = collection_id, site = site_id, now = now_ms;
  const std::string json = DumpJson(FieldsToJson(fields));
  s << "UPDATE collections SET name = :name, description = :description, fields = :fields, updated_at = :now"
       " WHERE id = :id AND site_id = :site",
      soci::use(name), soci::use(description), soci::use(json), soci::use(now), soci::use(id), soci::use(site);
}

void DeleteCollection(soci::session& s, std::int64_t site_id, std::int64_t collection_id) {
  const long long id = collection_id, site = site_id;
  s << "DELETE FROM collections WHERE id = :id AND site_id = :site", soci::use(id), soci::use(site);
}

std::optional<Entry> GetEntry(soci::session& s, const Collection& c, std::int64_t entry_id, bool lock) {
  Query q(s);
  return EntryWhere(s, q, c, "e.id = " + q.Int(entry_id), lock);
}

std::optional<Entry> GetEntryBySlug(soci::session& s, const Collection& c, std::string_view slug) {
  Query q(s);
  return EntryWhere(s, q, c, "e.slug = " + q.Text(std::string(slug)));
}

std::vector<Entry> AllEntries(soci::session& s, const Collection& c) {
  Query q(s);
  EntryRow row;
  row.BindTo(q);
  std::vector<Entry> out;
  if (q.Execute("SELECT " + std::string(kEntryColumns) + " FROM entries e WHERE e.collection_id = " + q.Int(c.id) +
                " AND e.site_id = " + q.Int(c.site_id) + " ORDER BY e.position, e.id")) {
    do {
      out.push_back(row.Get(c));
    } while (q.Fetch());
  }
  return out;
}

std::vector<std::int64_t> EntryIdsOf(soci::session& s, const Collection& c) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  std::vector<std::int64_t> out;
  if (q.Execute("SELECT id FROM entries WHERE collection_id = " + q.Int(c.id) + " AND site_id = " + q.Int(c.site_id) +
                " ORDER BY position, id")) {
    do {
      out.push_back(id);
    } while (q.Fetch());
  }
  return out;
}

std::int64_t CountEntries(soci::session& s, const Collection& c) {
  const long long id = c.id, site = c.site_id;
  long long n = 0;
  s << "SELECT COUNT(*) FROM entries WHERE collection_id = :id AND site_id = :site", soci::use(id), soci::use(site),
      soci::into(n);
  return n;
}

std::optional<std::string> CollectionSlugOf(soci::session& s, std::int64_t site_id, std::int64_t entry_id) {
  const long long site = site_id, entry = entry_id;
  std::string slug;
  s << "SELECT c.slug FROM entries e JOIN collections c ON c.id = e.collection_id WHERE e.id = :e AND e.site_id = :s",
      soci::use(entry), soci::use(site), soci::into(slug);
  if (!s.got_data()) return std::nullopt;
  return slug;
}

bool EntryExists(soci::session& s, std::int64_t site_id, std::int64_t entry_id, std::string_view collection_slug) {
  Query q(s);
  long long found = 0;
  q.Into(found);
  std::string sql =
      "SELECT e.id FROM entries e JOIN collections c ON c.id = e.collection_id WHERE e.id = " + q.Int(entry_id) +
      " AND e.site_id = " + q.Int(site_id);
  if (!collection_slug.empty()) sql += " AND c.slug = " + q.Text(std::string(collection_slug));
  return q.Execute(sql);
}

std::int64_t InsertEntry(soci::session& s, const Entry& e, const EntryTexts& texts) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  const std::string search = SearchValue(s, q, texts.search_text, texts.search_language);
  std::string sql =
      "INSERT INTO entries (site_id, collection_id, status, position, slug, data, html, search_text, version,"
      " publish_at, created_at, updated_at, published_at" +
      std::string(search.empty() ? "" : ", search") + ") VALUES (" + q.Int(e.site_id) + ", " + q.Int(e.collection_id) +
      ", " + q.Text(std::string(StatusName(e.status))) + ", " + q.Int(e.position) + ", " +
      (e.slug ? q.Text(*e.slug) : std::string("NULL")) + ", " + q.Text(DumpJson(e.data)) + ", " + q.Text(texts.html) +
      ", " + q.Text(texts.search_text) + ", " + q.Int(e.version) + ", " + q.Int(e.publish_at) + ", " +
      q.Int(e.created_at) + ", " + q.Int(e.updated_at) + ", " + q.Int(e.published_at) +
      (search.empty() ? "" : ", " + search) + ") RETURNING id";
  try {
    q.Execute(sql);
  } catch (const std::exception& error) {
    if (db::IsUniqueViolation(error)) {
      throw AppError::Conflict("Another entry of the collection has this slug.",
                               {{"data.slug", "taken", "this slug is already used by another entry"}});
    }
    throw;
  }
  return id;
}

void UpdateEntry(soci::session& s, const Entry& e, const EntryTexts& texts) {
  Query q(s);
  const std::string search = SearchValue(s, q, texts.search_text, texts.search_language);
  const std::string sql = "UPDATE entries SET status = " + q.Text(std::string(StatusName(e.status))) +
                          ", position = " + q.Int(e.position) +
                          ", slug = " + (e.slug ? q.Text(*e.slug) : std::string("NULL")) +
                          ", data = " + q.Text(DumpJson(e.data)) + ", html = " + q.Text(texts.html) +
                          ", search_text = " + q.Text(texts.search_text) + ", version = " + q.Int(e.version) +
                          ", publish_at = " + q.Int(e.publish_at) + ", updated_at = " + q.Int(e.updated_at) +
                          ", published_at = " + q.Int(e.published_at) + (search.empty() ? "" : ", search = " + search) +
                          " WHERE id = " + q.Int(e.id) + " AND site_id = " + q.Int(e.site_id);
  try {
    q.Execute(sql);
  } catch (const std::exception& error) {
    if (db::IsUniqueViolation(error)) {
      throw AppError::Conflict("Another entry of the collection has this slug.",
                               {{"data.slug", "taken", "this slug is already used by another entry"}});
    }
    throw;
  }
}

void DeleteEntry(soci::session& s, const Collection& c, std::int64_t entry_id) {
  const long long id = entry_id, collection = c.id, site = c.site_id;
  s << "DELETE FROM entries WHERE id = :id AND collection_id = :c AND site_id = :site", soci::use(id),
      soci::use(collection), soci::use(site);
}

void SetPositions(soci::session& s, const Collection& c, const std::vector<std::int64_t>& ids) {
  const long long collection = c.id, site = c.site_id;
  long long id = 0, position = 0;
  soci::statement st = (s.prepare << "UPDATE entries SET position = :position WHERE id = :id AND collection_id = :c"
                                     " AND site_id = :site AND position <> :position2",
                        soci::use(position, "position"), soci::use(id, "id"), soci::use(collection, "c"),
                        soci::use(site, "site"), soci::use(position, "position2"));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    id = ids[i];
    position = static_cast<long long>(i);
    st.execute(true);
  }
}

void CloseGap(soci::session& s, const Collection& c, std::int64_t position) {
  const long long collection = c.id, site = c.site_id, p = position;
  s << "UPDATE entries SET position = position - 1 WHERE collection_id = :c AND site_id = :site AND position > :p",
      soci::use(collection), soci::use(site), soci::use(p);
}

void ReplaceUniqueValues(soci::session& s, const Collection& c, std::int64_t entry_id,
                         const std::vector<std::pair<std::string, std::string>>& values) {
  const long long collection = c.id, site = c.site_id, entry = entry_id;
  // entry_unique_values has no site_id of its own: its rows are reached through the site's entry, which is
  // checked first (another site's entry changes nothing).
  long long found = 0;
  s << "SELECT id FROM entries WHERE id = :e AND collection_id = :c AND site_id = :site", soci::use(entry),
      soci::use(collection), soci::use(site), soci::into(found);
  if (!s.got_data()) return;
  s << "DELETE FROM entry_unique_values WHERE entry_id = :e AND collection_id = :c", soci::use(entry),
      soci::use(collection);
  std::string field, key;
  long long inserted = 0;
  // ON CONFLICT DO NOTHING rather than catching the violation: a PostgreSQL transaction survives it, and the
  // statement that finds the conflict knows its field.
  soci::statement st =
      (s.prepare << "INSERT INTO entry_unique_values (collection_id, field, value_key, entry_id)"
                    " VALUES (:c, :f, :k, :e) ON CONFLICT (collection_id, field, value_key) DO NOTHING"
                    " RETURNING entry_id",
       soci::use(collection), soci::use(field), soci::use(key), soci::use(entry), soci::into(inserted));
  for (const auto& [f, k] : values) {
    field = f, key = k;
    st.execute(true);
    if (!st.got_data()) {
      throw AppError::Conflict("Another entry of the collection has this " + f + ".",
                               {{"data." + f, "taken", "this value is already used by another entry"}});
    }
  }
}

void ReplaceEntryRefs(soci::session& s, std::int64_t site_id, std::int64_t entry_id,
                      const std::vector<std::pair<std::string, std::int64_t>>& refs) {
  const long long site = site_id, entry = entry_id;
  s << "DELETE FROM entry_refs WHERE site_id = :site AND entry_id = :e", soci::use(site), soci::use(entry);
  std::string field;
  long long target = 0;
  soci::statement st = (s.prepare << "INSERT INTO entry_refs (site_id, entry_id, field, target_id)"
                                     " VALUES (:site, :e, :f, :t)",
                        soci::use(site), soci::use(entry), soci::use(field), soci::use(target));
  for (const auto& [f, t] : refs) {
    field = f, target = t;
    st.execute(true);
  }
}

namespace {
std::vector<EntryRef> Refs(Query& q, const std::string& where) {
  EntryRef ref;
  long long entry = 0, target = 0;
  q.Into(entry);
  q.Into(ref.collection);
  q.Into(ref.field);
  q.Into(target);
  std::vector<EntryRef> out;
  if (q.Execute("SELECT r.entry_id, c.slug, r.field, r.target_id FROM entry_refs r"
                " JOIN entries e ON e.id = r.entry_id AND e.site_id = r.site_id"
                " JOIN collections c ON c.id = e.collection_id AND c.site_id = e.site_id WHERE " +
                where + " ORDER BY r.entry_id, r.field, r.target_id")) {
    do {
      ref.entry_id = entry, ref.target_id = target;
      out.push_back(ref);
    } while (q.Fetch());
  }
  return out;
}
}  // namespace

std::vector<EntryRef> RefsToEntry(soci::session& s, std::int64_t site_id, std::int64_t target_id) {
  Query q(s);
  return Refs(q, "r.site_id = " + q.Int(site_id) + " AND r.target_id = " + q.Int(target_id) + " AND r.entry_id <> " +
                     q.Int(target_id));
}

std::vector<EntryRef> RefsIntoCollection(soci::session& s, const Collection& c) {
  Query q(s);
  return Refs(q, "r.site_id = " + q.Int(c.site_id) + " AND e.collection_id <> " + q.Int(c.id) +
                     " AND r.target_id IN (SELECT t.id FROM entries t WHERE t.collection_id = " + q.Int(c.id) +
                     " AND t.site_id = " + q.Int(c.site_id) + ")");
}

std::vector<CollectionCounts> CountEntriesByStatus(soci::session& s, std::int64_t site_id) {
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

void InsertRevision(soci::session& s, std::int64_t site_id, const Revision& r) {
  Query q(s);
  q.Execute(
      "INSERT INTO entry_revisions (site_id, entry_id, revision, status, data, actor_user_id, created_at)"
      " VALUES (" +
      q.Int(site_id) + ", " + q.Int(r.entry_id) + ", " + q.Int(r.revision) + ", " +
      q.Text(std::string(StatusName(r.status))) + ", " + q.Text(DumpJson(r.data)) + ", " + q.Int(r.actor_user_id) +
      ", " + q.Int(r.created_at) + ") ON CONFLICT (entry_id, revision) DO NOTHING");
}

void PruneRevisions(soci::session& s, std::int64_t site_id, std::int64_t entry_id, std::size_t keep) {
  const long long site = site_id, entry = entry_id, n = static_cast<long long>(keep);
  s << "DELETE FROM entry_revisions WHERE site_id = :site AND entry_id = :e AND revision < (SELECT MIN(revision)"
       " FROM (SELECT revision FROM entry_revisions WHERE site_id = :site2 AND entry_id = :e2 ORDER BY revision DESC"
       " LIMIT :n) kept)",
      soci::use(site, "site"), soci::use(entry, "e"), soci::use(site, "site2"), soci::use(entry, "e2"),
      soci::use(n, "n");
}

namespace {
struct RevisionRow {
  long long entry_id = 0, revision = 0, actor = 0, created_at = 0;
  std::string status, data;
  soci::indicator actor_ind = soci::i_ok;
  void BindTo(Query& q) {
    q.Into(entry_id);
    q.Into(revision);
    q.Into(status);
    q.Into(data);
    q.Into(actor, actor_ind);
    q.Into(created_at);
  }
  Revision Get() const {
    Revision r;
    r.entry_id = entry_id, r.revision = revision, r.created_at = created_at;
    r.status = ParseStatus(status).value_or(EntryStatus::kDraft);
    r.data = nlohmann::json::parse(data, nullptr, false);
    if (!r.data.is_object()) r.data = nlohmann::json::object();
    if (actor_ind == soci::i_ok) r.actor_user_id = actor;
    return r;
  }
};
constexpr const char* kRevisionColumns = "entry_id, revision, status, data, actor_user_id, created_at";
}  // namespace

std::vector<Revision> ListRevisions(soci::session& s, std::int64_t site_id, std::int64_t entry_id) {
  Query q(s);
  RevisionRow row;
  row.BindTo(q);
  std::vector<Revision> out;
  if (q.Execute("SELECT " + std::string(kRevisionColumns) + " FROM entry_revisions WHERE site_id = " + q.Int(site_id) +
                " AND entry_id = " + q.Int(entry_id) + " ORDER BY revision DESC")) {
    do {
      out.push_back(row.Get());
    } while (q.Fetch());
  }
  return out;
}

std::optional<Revision> GetRevision(soci::session& s, std::int64_t site_id, std::int64_t entry_id,
                                    std::int64_t revision) {
  Query q(s);
  RevisionRow row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kRevisionColumns) + " FROM entry_revisions WHERE site_id = " + q.Int(site_id) +
                 " AND entry_id = " + q.Int(entry_id) + " AND revision = " + q.Int(revision))) {
    return std::nullopt;
  }
  return row.Get();
}

std::string SearchLanguage(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  std::string locale;
  s << "SELECT locale FROM sites WHERE id = :id", soci::use(site), soci::into(locale);
  // The configurations of migration 0007: the language's stemmer behind the unaccent filter.
  if (locale == "fr") return "poste_french";
  if (locale == "en") return "poste_english";
  if (locale == "es") return "poste_spanish";
  if (locale == "de") return "poste_german";
  if (locale == "it") return "poste_italian";
  return "poste_simple";
}

}  // namespace poste::content::store
