#pragma once
// The collections, entries, entry_unique_values, entry_refs and entry_revisions tables (and the full-text index that
// follows entries): SQL and nothing else. Every function runs on a session the caller got from
// Database::Write (or Read for queries), so that a service writes a change, its audit row, its webhook event
// and its revision in one transaction. Every function is scoped by site (directly, or through a collection
// the caller loaded for its site). Input is stored as given: validation is the caller's job.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "modules/content/content_query.hpp"
#include "modules/content/content_types.hpp"

namespace soci {
class session;
}

namespace poste::content::store {

// --- collections ---
std::vector<Collection> ListCollections(soci::session& s, std::int64_t site_id);
// lock: hold the collection's row until the transaction ends (PostgreSQL FOR UPDATE; SQLite's single writer
// already serialises): every change of its entries' positions takes it, so positions stay dense.
std::optional<Collection> GetCollection(soci::session& s, std::int64_t site_id, std::string_view slug,
                                        bool lock = false);
std::int64_t CountCollections(soci::session& s, std::int64_t site_id);
// The new id; AppError::Conflict on "slug" when the site has that slug already.
std::int64_t InsertCollection(soci::session& s, std::int64_t site_id, const std::string& slug, const std::string& name,
                              const std::string& description, const std::vector<FieldDef>& fields,
                              const std::optional<std::string>& preset, std::int64_t now_ms);
// Both change nothing unless the collection is the site's.
void UpdateCollection(soci::session& s, std::int64_t site_id, std::int64_t collection_id, const std::string& name,
                      const std::string& description, const std::vector<FieldDef>& fields, std::int64_t now_ms);
void DeleteCollection(soci::session& s, std::int64_t site_id, std::int64_t collection_id);

// --- entries ---
// The entry of this collection (nullopt for another collection's or site's). lock: FOR UPDATE on PostgreSQL.
std::optional<Entry> GetEntry(soci::session& s, const Collection& c, std::int64_t entry_id, bool lock = false);
std::optional<Entry> GetEntryBySlug(soci::session& s, const Collection& c, std::string_view slug);
// Every entry of the collection, by position (for a schema check).
std::vector<Entry> AllEntries(soci::session& s, const Collection& c);
std::vector<std::int64_t> EntryIdsOf(soci::session& s, const Collection& c);  // by position
std::int64_t CountEntries(soci::session& s, const Collection& c);
// The slug of the collection an entry of the site belongs to (nullopt when the site has no such entry).
std::optional<std::string> CollectionSlugOf(soci::session& s, std::int64_t site_id, std::int64_t entry_id);
// Whether an entry exists on the site (in the collection of that slug when given).
bool EntryExists(soci::session& s, std::int64_t site_id, std::int64_t entry_id, std::string_view collection_slug);

// What is stored with an entry besides its own columns (made by the service from the collection's schema).
struct EntryTexts {
  std::string search_text;
  std::string search_language;  // the PostgreSQL text search configuration of the site (SearchLanguage)
  std::string html;             // the markdown fields rendered, as compact JSON; "" when there are none
};
std::int64_t InsertEntry(soci::session& s, const Entry& e, const EntryTexts& texts);
// Writes status, position, slug, data, version, publish_at, updated_at, published_at and the texts.
void UpdateEntry(soci::session& s, const Entry& e, const EntryTexts& texts);
void DeleteEntry(soci::session& s, const Collection& c, std::int64_t entry_id);
// Gives ids[i] the position i (rows whose position does not change are not written).
void SetPositions(soci::session& s, const Collection& c, const std::vector<std::int64_t>& ids);
// Closes the gap a deleted entry left: every position above `position` moves down by one.
void CloseGap(soci::session& s, const Collection& c, std::int64_t position);

// The entry's values of unique fields are now exactly `values` (field name, UniqueKey). Throws
// AppError::Conflict with field "data.<name>" for a value another entry of the collection holds.
void ReplaceUniqueValues(soci::session& s, const Collection& c, std::int64_t entry_id,
                         const std::vector<std::pair<std::string, std::string>>& values);

// --- references between entries (entry_refs) ---
struct EntryRef {
  std::int64_t entry_id = 0;   // the entry holding the reference
  std::string collection;      // that entry's collection (slug)
  std::string field;           // its reference field
  std::int64_t target_id = 0;  // the entry referred to
};
// The entry now refers to exactly `refs` (field, target entry id). The targets must be entries of the site
// (the caller checked them: entry_refs.target_id references entries).
void ReplaceEntryRefs(soci::session& s, std::int64_t site_id, std::int64_t entry_id,
                      const std::vector<std::pair<std::string, std::int64_t>>& refs);
// The references of other entries of the site to the entry, ordered by referring entry and field.
std::vector<EntryRef> RefsToEntry(soci::session& s, std::int64_t site_id, std::int64_t target_id);
// The references of entries of other collections of the site to any entry of the collection.
std::vector<EntryRef> RefsIntoCollection(soci::session& s, const Collection& c);

// --- revisions ---
void InsertRevision(soci::session& s, std::int64_t site_id, const Revision& revision);
// Keeps the newest `keep` revisions of the site's entry.
void PruneRevisions(soci::session& s, std::int64_t site_id, std::int64_t entry_id, std::size_t keep);
std::vector<Revision> ListRevisions(soci::session& s, std::int64_t site_id, std::int64_t entry_id);
std::optional<Revision> GetRevision(soci::session& s, std::int64_t site_id, std::int64_t entry_id,
                                    std::int64_t revision);

// The PostgreSQL text search configuration for the site's locale (migration 0007: the language's stemmer
// behind the unaccent filter, so that searches ignore accents): fr -> poste_french, en -> poste_english,
// es -> poste_spanish, de -> poste_german, it -> poste_italian, anything else -> poste_simple.
std::string SearchLanguage(soci::session& s, std::int64_t site_id);

// Every collection of the site (ordered by slug) with its entries counted by status (the dashboard).
struct CollectionCounts {
  std::string slug;
  std::string name;
  std::int64_t draft = 0, published = 0, archived = 0;
};
std::vector<CollectionCounts> CountEntriesByStatus(soci::session& s, std::int64_t site_id);

// A page of the collection's entries (content_list.cpp). Throws AppError 422 on a filter or sort that does
// not fit the schema, 400 on a bad cursor. Snippets are HTML-escaped with <mark> around the hits.
EntryPage ListEntries(soci::session& s, const Collection& c, const EntryQuery& query,
                      const std::string& search_language);
// The same page as the JSON text of web::PageJson(items, ToJson, next_cursor), written from the stored
// texts (data and rendered markdown are copied as they are, not parsed and encoded again): the public
// read API's path.
std::string ListEntriesJson(soci::session& s, const Collection& c, const EntryQuery& query,
                            const std::string& search_language);

}  // namespace poste::content::store
