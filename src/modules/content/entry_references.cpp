// What happens to the references that point at something being deleted: another entry (reference fields)
// or a media item (media fields). Deleting is refused while references exist, unless forced; a forced delete
// clears the values in the same transaction, so that no entry is left pointing at nothing.
#include <soci/soci.h>

#include <map>
#include <set>

#include "jobs/job_queue.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/content/content_fields.hpp"
#include "modules/content/content_service.hpp"
#include "modules/content/content_store.hpp"
#include "modules/content/entry_writes.hpp"
#include "modules/media/media_refs_store.hpp"
#include "modules/webhooks/webhook_events.hpp"

namespace poste::content {

using namespace internal;

namespace {

constexpr std::size_t kMaxListedReferrers = 100;

// Removes from the site's entry the values of its `type` fields that hold one of `targets`, as a new version
// (revision, audit entry, entry.updated event). Returns whether the entry changed.
bool ClearValues(soci::session& s, jobs::JobQueue& queue, const audit::Origin& origin, std::int64_t site_id,
                 std::int64_t entry_id, FieldType type, const std::set<std::int64_t>& targets,
                 const nlohmann::json& reason, std::int64_t now) {
  auto slug = store::CollectionSlugOf(s, site_id, entry_id);
  if (!slug) return false;
  auto c = store::GetCollection(s, site_id, *slug);
  if (!c) return false;
  auto before = store::GetEntry(s, *c, entry_id, true);
  if (!before) return false;
  Entry e = *before;
  for (const auto& f : c->fields) {
    auto it = e.data.find(f.name);
    if (f.type == type && it != e.data.end() && it->is_number_integer() && targets.count(it->get<std::int64_t>())) {
      e.data.erase(it);  // stored data holds no nulls: a removed key is the null value
    }
  }
  if (e.data == before->data) return false;
  e.version += 1;
  e.updated_at = now;
  store::UpdateEntry(s, e, TextsOf(*c, e, SearchLanguageFor(s, site_id)));
  WriteDerived(s, *c, e);
  WriteRevision(s, e, origin, now);
  webhooks::EmitIn(queue, s, site_id, "entry.updated", EventData(e));
  audit::Record(s, audit::EntryFrom(
                       origin, "entry.update", "entry", std::to_string(e.id), site_id,
                       {{"collection", c->slug}, {"fields", ChangedFields(before->data, e.data)}, {"reason", reason}}));
  return true;
}

}  // namespace

namespace internal {

bool ResolveReferrers(soci::session& s, jobs::JobQueue& queue, const audit::Origin& origin, std::int64_t site_id,
                      const std::vector<store::EntryRef>& refs, bool force, std::int64_t now) {
  if (refs.empty()) return false;
  if (!force) {
    std::vector<FieldError> listed;
    for (const auto& r : refs) {
      if (listed.size() == kMaxListedReferrers) break;
      listed.push_back({"referenced_by", "in_use",
                        "entry " + std::to_string(r.entry_id) + " of " + r.collection + " refers to entry " +
                            std::to_string(r.target_id) + " in its field " + r.field});
    }
    throw AppError::Conflict("Other entries refer to this (" + std::to_string(refs.size()) +
                                 " reference(s)); delete with force=true to remove those references too.",
                             std::move(listed));
  }
  std::map<std::int64_t, std::set<std::int64_t>> targets_by_entry;
  for (const auto& r : refs) targets_by_entry[r.entry_id].insert(r.target_id);
  bool changed = false;
  for (const auto& [entry_id, targets] : targets_by_entry) {
    const nlohmann::json reason = {{"deleted_entries", targets}};
    changed |= ClearValues(s, queue, origin, site_id, entry_id, FieldType::kReference, targets, reason, now);
  }
  return changed;
}

}  // namespace internal

bool ContentService::ClearMediaReferences(soci::session& s, const audit::Origin& origin, std::int64_t site_id,
                                          std::int64_t media_id) {
  const auto now = now_ms_();
  bool changed = false;
  for (const auto& use : media::store::RefsTo(s, site_id, media_id)) {
    if (use.owner_type != "entry") continue;
    changed |= ClearValues(s, queue_, origin, site_id, use.owner_id, FieldType::kMedia, {media_id},
                           {{"deleted_media", media_id}}, now);
  }
  return changed;
}

}  // namespace poste::content
