#pragma once
// The content module's domain logic: collections with their field schema (custom or a preset), entries with
// validation, statuses, scheduled publication, optimistic concurrency, revisions, ordering, filters and
// full-text search. Every change writes its audit entry, its webhook event, its media references and its
// revision in the same transaction as the change, then calls on_site_changed once committed. No HTTP here:
// content_routes.cpp parses and serialises. Site access is checked by the middleware before a handler calls
// in with the resolved site id; everything here is scoped by that id (another site's objects are 404).
//
// Public and stable: ListEntries, GetEntry and on_site_changed are what the public read API builds on.
// Every member blocks (SQL): call it through co_await blocking(...). The members are defined in
// collection_service.cpp (collections: schema, presets, schema-change conflicts), entry_service.cpp (entries:
// CRUD, revisions, reordering, publication) and entry_references.cpp (references to deleted entries and
// media items).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/audit/audit_types.hpp"
#include "modules/content/content_query.hpp"
#include "modules/content/content_types.hpp"

namespace poste::db {
class Database;
}
namespace soci {
class session;
}
namespace poste::jobs {
class JobQueue;
struct Job;
}  // namespace poste::jobs

namespace poste::content {

// The job that publishes a scheduled entry: payload {"site_id", "entry_id", "publish_at"}.
inline constexpr std::string_view kPublishJobKind = "content.publish";

struct NewCollection {
  std::string name;
  std::string slug;  // "" = made from the name
  std::string description;
  std::vector<FieldDef> fields;
};

// Absent = unchanged. fields replaces the whole schema (fields left out are removed with their values).
struct CollectionPatch {
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::vector<FieldDef>> fields;
};

struct EntryInput {
  std::optional<EntryStatus> status;  // create: default draft
  // create: the whole data; update: merged into the stored data (a key set to null removes that value).
  std::optional<nlohmann::json> data;
  // Absent = unchanged; a nullopt inside cancels a scheduled publication. Only drafts are scheduled.
  std::optional<std::optional<std::int64_t>> publish_at;
};

// Either one entry moved before or after another (id with before or after), or a whole order (ids: these
// entries first, in this order, then the others in their current order).
struct ReorderRequest {
  std::optional<std::int64_t> id;
  std::optional<std::int64_t> before;
  std::optional<std::int64_t> after;
  std::vector<std::int64_t> ids;
};

class ContentService {
 public:
  using Clock = std::function<std::int64_t()>;  // epoch ms
  ContentService(db::Database& db, jobs::JobQueue& queue, Clock now_ms = {});

  // Called with the site's id after every committed change of its content (collections, entries, a scheduled
  // publication): the public read cache drops the site's entries. Set once while wiring.
  std::function<void(std::int64_t site_id)> on_site_changed;

  // --- collections ---
  std::vector<Collection> ListCollections(std::int64_t site_id);
  // 404 when the site has no such collection.
  Collection GetCollection(std::int64_t site_id, std::string_view slug);
  // 422 with field errors; 409 on a slug the site already uses ("slug").
  Collection CreateCollection(const audit::Origin& origin, std::int64_t site_id, const NewCollection& collection);
  // Adds "formations" or "pages" (422 on "preset" otherwise; 409 when the site has it already).
  Collection AddPreset(const audit::Origin& origin, std::int64_t site_id, std::string_view preset);
  // A new schema is checked against every entry first: 422 with errors "entries[<id>].data.<field>" listing
  // the entries and fields that would not fit (nothing changes then).
  Collection UpdateCollection(const audit::Origin& origin, std::int64_t site_id, std::string_view slug,
                              const CollectionPatch& patch);
  // Deletes its entries (their media references and revisions) too. When entries of other collections refer
  // to its entries: 409 listing them ("referenced_by") unless force, which clears those references first
  // (as DeleteEntry does).
  void DeleteCollection(const audit::Origin& origin, std::int64_t site_id, std::string_view slug, bool force = false);

  // --- entries ---
  // Any status unless query.statuses says otherwise (the public API asks for published). 422 on a filter or
  // sort naming an unknown field or a value that does not fit; 400 on a bad cursor. Markdown fields are
  // rendered into Entry::html.
  EntryPage ListEntries(std::int64_t site_id, std::string_view collection_slug, const EntryQuery& query);
  // The same page as JSON text ({"items": [...], "next_cursor"}), written from the stored texts without
  // decoding them: the public read API's uncached path.
  std::string ListEntriesJson(std::int64_t site_id, std::string_view collection_slug, const EntryQuery& query);
  // By id (all digits) or by slug; any status (the public API checks it). 404 when not in this collection.
  Entry GetEntry(std::int64_t site_id, std::string_view collection_slug, std::string_view id_or_slug);
  // 422 with errors "data.<field>" / "status" / "publish_at"; 409 on a value of a unique field already used.
  Entry CreateEntry(const audit::Origin& origin, std::int64_t site_id, std::string_view collection_slug,
                    const EntryInput& input);
  // if_match: the If-Match header when given (412 unless it names the current ETag, or is "*").
  Entry UpdateEntry(const audit::Origin& origin, std::int64_t site_id, std::string_view collection_slug,
                    std::int64_t entry_id, const EntryInput& input, const std::optional<std::string>& if_match);
  // When other entries refer to it (reference fields): 409 listing them (errors "referenced_by", one per
  // referring entry and field) unless force, which removes those values (the field becomes null) from the
  // referring entries in the same transaction, each as a new version with its revision, audit entry and
  // entry.updated event.
  void DeleteEntry(const audit::Origin& origin, std::int64_t site_id, std::string_view collection_slug,
                   std::int64_t entry_id, const std::optional<std::string>& if_match, bool force = false);
  // Returns the collection's entry ids in their new order (positions 0..n-1). 422 on unknown or repeated ids.
  std::vector<std::int64_t> Reorder(const audit::Origin& origin, std::int64_t site_id, std::string_view collection_slug,
                                    const ReorderRequest& request);
  // Newest first (at most kMaxRevisions).
  std::vector<Revision> Revisions(std::int64_t site_id, std::string_view collection_slug, std::int64_t entry_id);
  // Puts a revision's data back (as a new revision; the status is kept). 404 for an unknown revision, 422
  // when its data no longer fits the schema, 412 on a stale If-Match.
  Entry RestoreRevision(const audit::Origin& origin, std::int64_t site_id, std::string_view collection_slug,
                        std::int64_t entry_id, std::int64_t revision, const std::optional<std::string>& if_match);

  // The handler of kPublishJobKind jobs (registered with the workers). Publishes the entry when it is still a
  // draft scheduled for exactly payload.publish_at and that time has come; otherwise (cancelled, rescheduled,
  // deleted, already published) does nothing, so running it twice is harmless. A time not yet reached (clock
  // skew between instances) throws so that the job is retried.
  void RunPublishJob(const jobs::Job& job);

  // For the media module, inside its transaction deleting a media item of the site with force: removes the
  // item from the media fields of the site's entries that use it (as DeleteEntry's force does for entry
  // references). Returns whether an entry changed; call SiteChanged once the transaction has committed.
  bool ClearMediaReferences(soci::session& s, const audit::Origin& origin, std::int64_t site_id, std::int64_t media_id);
  // Runs on_site_changed (errors are logged: the change has committed). For a change made through a
  // session-level member (above), call it after the commit.
  void SiteChanged(std::int64_t site_id) const;

 private:
  db::Database& db_;
  jobs::JobQueue& queue_;
  Clock now_ms_;
};

}  // namespace poste::content
