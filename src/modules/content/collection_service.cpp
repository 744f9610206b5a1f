#include "modules/content/content_service.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <map>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/error.hpp"
#include "lib/validate/slug.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/content/content_fields.hpp"
#include "modules/content/content_store.hpp"
#include "modules/content/entry_writes.hpp"
#include "modules/media/media_refs_store.hpp"
#include "modules/webhooks/webhook_events.hpp"

// ContentService, the collections half: listing, creating (custom or a preset), changing a schema (every
// entry checked against it first) and deleting. The entries half is entry_service.cpp.
namespace poste::content {

using namespace internal;

ContentService::ContentService(db::Database& db, jobs::JobQueue& queue, Clock now_ms)
    : db_(db), queue_(queue), now_ms_(now_ms ? std::move(now_ms) : Clock(SystemNowMs)) {}

void ContentService::SiteChanged(std::int64_t site_id) const {
  if (!on_site_changed) return;
  try {
    on_site_changed(site_id);
  } catch (const std::exception& error) {  // the change is committed: report, do not fail the request
    spdlog::error("content: on_site_changed for site {} failed: {}", site_id, error.what());
  }
}

// --- collections ---

std::vector<Collection> ContentService::ListCollections(std::int64_t site_id) {
  return db_.ReadValue([&](soci::session& s) { return store::ListCollections(s, site_id); });
}

Collection ContentService::GetCollection(std::int64_t site_id, std::string_view slug) {
  auto c = db_.ReadValue([&](soci::session& s) { return store::GetCollection(s, site_id, slug); });
  if (!c) throw NoCollection();
  return *c;
}

Collection ContentService::CreateCollection(const audit::Origin& origin, std::int64_t site_id,
                                            const NewCollection& input) {
  std::vector<FieldError> errors = ValidateCollectionName(input.name);
  const std::string slug = input.slug.empty() ? validate::Slugify(input.name) : input.slug;
  for (auto& e : ValidateCollectionSlug(slug)) errors.push_back(std::move(e));
  for (auto& e : ValidateCollectionDescription(input.description)) errors.push_back(std::move(e));
  auto fields = FieldsFromJson(FieldsToJson(input.fields), errors);  // definitions built in code are checked too
  ThrowIfAny(std::move(errors));
  const auto now = now_ms_();
  auto created = db_.WriteValue([&](soci::session& s) {
    if (store::CountCollections(s, site_id) >= static_cast<std::int64_t>(kMaxCollectionsPerSite)) {
      throw AppError::Validation(
          {{"slug", "too_many", "a site has at most " + std::to_string(kMaxCollectionsPerSite) + " collections"}});
    }
    std::optional<std::string> preset;
    if (auto p = FindPreset(slug); p && p->name == input.name && FieldsToJson(p->fields) == FieldsToJson(fields)) {
      preset = p->slug;
    }
    store::InsertCollection(s, site_id, slug, input.name, input.description, fields, preset, now);
    auto c = store::GetCollection(s, site_id, slug);
    if (!c) throw AppError::Internal("collection vanished after insert");
    audit::Record(s, audit::EntryFrom(origin, "collection.create", "collection", std::to_string(c->id), site_id,
                                      {{"slug", c->slug}, {"name", c->name}, {"fields", FieldsToJson(c->fields)}}));
    return *c;
  });
  SiteChanged(site_id);
  return created;
}

Collection ContentService::AddPreset(const audit::Origin& origin, std::int64_t site_id, std::string_view name) {
  auto preset = FindPreset(name);
  if (!preset) throw AppError::Validation({{"preset", "invalid", "one of: formations, pages"}});
  return CreateCollection(origin, site_id, {preset->name, preset->slug, preset->description, preset->fields});
}

Collection ContentService::UpdateCollection(const audit::Origin& origin, std::int64_t site_id, std::string_view slug,
                                            const CollectionPatch& patch) {
  std::vector<FieldError> errors;
  if (patch.name) errors = ValidateCollectionName(*patch.name);
  if (patch.description) {
    for (auto& e : ValidateCollectionDescription(*patch.description)) errors.push_back(std::move(e));
  }
  std::optional<std::vector<FieldDef>> fields;
  if (patch.fields) fields = FieldsFromJson(FieldsToJson(*patch.fields), errors);
  ThrowIfAny(std::move(errors));
  const auto now = now_ms_();
  auto updated = db_.WriteValue([&](soci::session& s) {
    auto before = store::GetCollection(s, site_id, slug, true);
    if (!before) throw NoCollection();
    Collection after = *before;
    if (patch.name) after.name = *patch.name;
    if (patch.description) after.description = *patch.description;
    if (fields) after.fields = *fields;
    if (fields && FieldsToJson(*fields) != FieldsToJson(before->fields)) {
      // Every entry against the new schema first: report all conflicts, change nothing.
      auto entries = store::AllEntries(s, *before);
      std::vector<FieldError> conflicts;
      std::vector<nlohmann::json> normalised;
      std::map<std::pair<std::string, std::string>, std::int64_t> seen;  // unique (field, value) -> entry
      for (const auto& e : entries) {
        nlohmann::json kept = nlohmann::json::object();
        for (const auto& [k, v] : e.data.items()) {
          if (after.Field(k)) kept[k] = v;  // values of removed fields go with them
        }
        const std::string prefix = "entries[" + std::to_string(e.id) + "].data";
        std::vector<FieldError> entry_errors;
        auto data = ValidateData(after.fields, kept, entry_errors, prefix);
        // A value that becomes a reference (a field's type changed) must name an entry of the site.
        for (const auto& [field, id] : References(after.fields, data)) {
          if (!store::EntryExists(s, site_id, id, field->collection)) {
            entry_errors.push_back({prefix + "." + field->name, "not_found", "no such entry on this site"});
          }
        }
        for (const auto& [field, key] : UniqueValues(after, data)) {
          auto [it, fresh] = seen.emplace(std::make_pair(field, key), e.id);
          if (!fresh) {
            entry_errors.push_back(
                {prefix + "." + field, "not_unique", "the same value as entry " + std::to_string(it->second)});
          }
        }
        for (auto& err : entry_errors) {
          if (conflicts.size() < 100) conflicts.push_back(std::move(err));
        }
        normalised.push_back(std::move(data));
      }
      if (!conflicts.empty()) {
        throw AppError(ErrorCode::kValidation,
                       "The new schema does not fit " + std::to_string(conflicts.size()) +
                           " value(s) of existing entries; nothing was changed.",
                       {}, std::move(conflicts));
      }
      const auto language = SearchLanguageFor(s, site_id);
      for (std::size_t i = 0; i < entries.size(); ++i) {
        Entry e = entries[i];
        e.collection = after.slug;
        const bool changed = normalised[i] != e.data;
        e.data = std::move(normalised[i]);
        e.slug = SlugOf(after, e.data);
        if (changed) e.version += 1, e.updated_at = now;
        store::UpdateEntry(s, e, TextsOf(after, e, language));
        WriteDerived(s, after, e);
      }
    }
    store::UpdateCollection(s, site_id, before->id, after.name, after.description, after.fields, now);
    nlohmann::json changes = nlohmann::json::object();
    if (after.name != before->name) changes["name"] = {{"from", before->name}, {"to", after.name}};
    if (after.description != before->description) {
      changes["description"] = {{"from", before->description}, {"to", after.description}};
    }
    if (FieldsToJson(after.fields) != FieldsToJson(before->fields)) {
      changes["fields"] = {{"from", FieldsToJson(before->fields)}, {"to", FieldsToJson(after.fields)}};
    }
    if (!changes.empty()) {
      audit::Record(
          s, audit::EntryFrom(origin, "collection.update", "collection", std::to_string(before->id), site_id, changes));
    }
    auto stored = store::GetCollection(s, site_id, slug);
    if (!stored) throw AppError::Internal("collection vanished after update");
    return *stored;
  });
  SiteChanged(site_id);
  return updated;
}

void ContentService::DeleteCollection(const audit::Origin& origin, std::int64_t site_id, std::string_view slug,
                                      bool force) {
  const auto now = now_ms_();
  db_.Write([&](soci::session& s) {
    auto c = store::GetCollection(s, site_id, slug, true);
    if (!c) throw NoCollection();
    // Entries of other collections that refer to this one's: 409, or cleared with force.
    ResolveReferrers(s, queue_, origin, site_id, store::RefsIntoCollection(s, *c), force, now);
    auto entries = store::AllEntries(s, *c);
    for (const auto& e : entries) {
      media::store::DeleteRefs(s, site_id, "entry", e.id);
      webhooks::EmitIn(queue_, s, site_id, "entry.deleted", EventData(e));
    }
    store::DeleteCollection(s, site_id, c->id);
    audit::Record(s, audit::EntryFrom(origin, "collection.delete", "collection", std::to_string(c->id), site_id,
                                      {{"slug", c->slug}, {"name", c->name}, {"entries", entries.size()}}));
  });
  queue_.NotifyEnqueued();
  SiteChanged(site_id);
}

}  // namespace poste::content
