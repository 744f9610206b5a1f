#include "modules/content/content_service.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "db/database.hpp"
#include "jobs/job.hpp"
#include "jobs/job_queue.hpp"
#include "lib/error.hpp"
#include "lib/validate/slug.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/content/content_fields.hpp"
#include "modules/content/content_store.hpp"
#include "modules/content/entry_writes.hpp"
#include "modules/media/media_refs_store.hpp"
#include "modules/webhooks/webhook_events.hpp"

// ContentService, the entries half: reading, creating, changing and deleting entries, reordering, revisions
// and scheduled publication. The collections half is collection_service.cpp.
namespace poste::content {

using namespace internal;

namespace {

// If-Match: absent, "*", or a list holding the entry's current ETag.
void CheckIfMatch(const std::optional<std::string>& if_match, const Entry& e) {
  if (!if_match) return;
  const std::string current = ETagOf(e);
  std::string_view rest = *if_match;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view tag = rest.substr(0, comma);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag == "*" || tag == current) return;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  throw AppError(ErrorCode::kPreconditionFailed, "The entry has changed since it was read (If-Match).", {},
                 {{"If-Match", "stale", "read the entry again: its ETag is now " + current}});
}

// Reference fields must name an entry of the same site (of the field's collection when it names one), and
// media fields a media item of the same site.
void CheckReferences(soci::session& s, const Collection& c, const nlohmann::json& data, const std::string& prefix) {
  std::vector<FieldError> errors;
  const auto media_ids = MediaIds(c.fields, data);
  const auto existing = media::store::ExistingMediaIds(s, c.site_id, media_ids);
  for (const auto& f : c.fields) {
    auto it = data.find(f.name);
    if (f.type != FieldType::kMedia || it == data.end() || !it->is_number_integer()) continue;
    if (!std::binary_search(existing.begin(), existing.end(), it->get<std::int64_t>())) {
      errors.push_back({prefix + "." + f.name, "not_found", "no such media item on this site"});
    }
  }
  for (const auto& [field, id] : References(c.fields, data)) {
    if (!store::EntryExists(s, c.site_id, id, field->collection)) {
      errors.push_back({prefix + "." + field->name, "not_found",
                        field->collection.empty() ? "no such entry on this site"
                                                  : "no such entry in the collection " + field->collection});
    }
  }
  ThrowIfAny(std::move(errors));
}

std::string ObjectId(const Entry& e) { return std::to_string(e.id); }

}  // namespace

// --- entries ---

EntryPage ContentService::ListEntries(std::int64_t site_id, std::string_view collection_slug, const EntryQuery& query) {
  return db_.ReadValue([&](soci::session& s) {
    auto c = store::GetCollection(s, site_id, collection_slug);
    if (!c) throw NoCollection();
    const auto language = query.q.empty() ? std::string("simple") : SearchLanguageFor(s, site_id);
    return store::ListEntries(s, *c, query, language);
  });
}

std::string ContentService::ListEntriesJson(std::int64_t site_id, std::string_view collection_slug,
                                            const EntryQuery& query) {
  return db_.ReadValue([&](soci::session& s) {
    auto c = store::GetCollection(s, site_id, collection_slug);
    if (!c) throw NoCollection();
    const auto language = query.q.empty() ? std::string("simple") : SearchLanguageFor(s, site_id);
    return store::ListEntriesJson(s, *c, query, language);
  });
}

Entry ContentService::GetEntry(std::int64_t site_id, std::string_view collection_slug, std::string_view id_or_slug) {
  return db_.ReadValue([&](soci::session& s) {
    auto c = store::GetCollection(s, site_id, collection_slug);
    if (!c) throw NoCollection();
    std::optional<Entry> e;
    const bool digits = !id_or_slug.empty() && id_or_slug.size() <= 18 &&
                        id_or_slug.find_first_not_of("0123456789") == std::string_view::npos;
    if (digits) {
      e = store::GetEntry(s, *c, std::stoll(std::string(id_or_slug)));
    } else if (validate::IsValidSlug(id_or_slug)) {
      e = store::GetEntryBySlug(s, *c, id_or_slug);
    }
    if (!e) throw NoEntry();
    return *e;
  });
}

Entry ContentService::CreateEntry(const audit::Origin& origin, std::int64_t site_id, std::string_view collection_slug,
                                  const EntryInput& input) {
  const EntryStatus status = input.status.value_or(EntryStatus::kDraft);
  const std::optional<std::int64_t> publish_at = input.publish_at ? *input.publish_at : std::nullopt;
  if (!input.data) throw AppError::Validation({{"data", "required", "an object of field values"}});
  if (publish_at && status != EntryStatus::kDraft) {
    throw AppError::Validation({{"publish_at", "not_allowed", "only drafts are scheduled for publication"}});
  }
  const auto now = now_ms_();
  auto created = db_.WriteValue([&](soci::session& s) {
    auto c = store::GetCollection(s, site_id, collection_slug, true);
    if (!c) throw NoCollection();
    std::vector<FieldError> errors;
    Entry e;
    e.data = ValidateData(c->fields, *input.data, errors);
    ThrowIfAny(std::move(errors));
    CheckReferences(s, *c, e.data, "data");
    e.site_id = site_id, e.collection_id = c->id, e.collection = c->slug, e.status = status;
    e.position = store::CountEntries(s, *c);
    e.slug = SlugOf(*c, e.data);
    e.publish_at = publish_at;
    e.created_at = e.updated_at = now;
    if (status == EntryStatus::kPublished) e.published_at = now;
    e.id = store::InsertEntry(s, e, TextsOf(*c, e, SearchLanguageFor(s, site_id)));
    WriteDerived(s, *c, e);
    WriteRevision(s, e, origin, now);
    webhooks::EmitIn(queue_, s, site_id, "entry.created", EventData(e));
    if (status == EntryStatus::kPublished) webhooks::EmitIn(queue_, s, site_id, "entry.published", EventData(e));
    audit::Record(s, audit::EntryFrom(origin, "entry.create", "entry", ObjectId(e), site_id,
                                      {{"collection", c->slug},
                                       {"status", StatusName(status)},
                                       {"fields", ChangedFields(nlohmann::json::object(), e.data)}}));
    if (publish_at) {
      jobs::EnqueueOptions options;
      options.run_at_ms = *publish_at;
      options.max_attempts = 10;
      options.idempotency_key = "content.publish:" + std::to_string(e.id) + ":" + std::to_string(e.version);
      queue_.EnqueueIn(s, kPublishJobKind,
                       nlohmann::json{{"site_id", site_id}, {"entry_id", e.id}, {"publish_at", *publish_at}}.dump(),
                       options);
    }
    return e;
  });
  queue_.NotifyEnqueued();
  SiteChanged(site_id);
  return created;
}

Entry ContentService::UpdateEntry(const audit::Origin& origin, std::int64_t site_id, std::string_view collection_slug,
                                  std::int64_t entry_id, const EntryInput& input,
                                  const std::optional<std::string>& if_match) {
  if (input.data && !input.data->is_object()) {
    throw AppError::Validation({{"data", "invalid_type", "must be an object of field values"}});
  }
  const auto now = now_ms_();
  bool changed = false;
  auto updated = db_.WriteValue([&](soci::session& s) {
    auto c = store::GetCollection(s, site_id, collection_slug);
    if (!c) throw NoCollection();
    auto before = store::GetEntry(s, *c, entry_id, true);
    if (!before) throw NoEntry();
    CheckIfMatch(if_match, *before);
    Entry e = *before;
    if (input.data) {
      nlohmann::json merged = before->data;
      for (const auto& [k, v] : input.data->items()) {
        if (v.is_null()) {
          merged.erase(k);
        } else {
          merged[k] = v;
        }
      }
      std::vector<FieldError> errors;
      e.data = ValidateData(c->fields, merged, errors);
      ThrowIfAny(std::move(errors));
      CheckReferences(s, *c, e.data, "data");
    }
    if (input.status) e.status = *input.status;
    if (input.publish_at) e.publish_at = *input.publish_at;
    if (e.publish_at && e.status != EntryStatus::kDraft) {
      if (input.publish_at && *input.publish_at) {
        throw AppError::Validation({{"publish_at", "not_allowed", "only drafts are scheduled for publication"}});
      }
      e.publish_at.reset();  // published or archived by hand: the schedule is cancelled
    }
    changed = e.data != before->data || e.status != before->status || e.publish_at != before->publish_at;
    if (!changed) {
      return e;
    }
    e.slug = SlugOf(*c, e.data);
    e.version += 1;
    e.updated_at = now;
    const bool published_now = e.status == EntryStatus::kPublished && before->status != EntryStatus::kPublished;
    if (published_now && !e.published_at) e.published_at = now;
    store::UpdateEntry(s, e, TextsOf(*c, e, SearchLanguageFor(s, site_id)));
    WriteDerived(s, *c, e);
    WriteRevision(s, e, origin, now);
    webhooks::EmitIn(queue_, s, site_id, "entry.updated", EventData(e));
    nlohmann::json changes = {{"collection", c->slug}, {"fields", ChangedFields(before->data, e.data)}};
    if (e.status != before->status) {
      changes["status"] = {{"from", StatusName(before->status)}, {"to", StatusName(e.status)}};
    }
    if (e.publish_at != before->publish_at) {
      auto opt = [](const std::optional<std::int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
      changes["publish_at"] = {{"from", opt(before->publish_at)}, {"to", opt(e.publish_at)}};
    }
    audit::Record(s, audit::EntryFrom(origin, "entry.update", "entry", ObjectId(e), site_id, changes));
    if (published_now) {
      webhooks::EmitIn(queue_, s, site_id, "entry.published", EventData(e));
      audit::Record(
          s, audit::EntryFrom(origin, "entry.publish", "entry", ObjectId(e), site_id, {{"collection", c->slug}}));
    }
    if (e.publish_at && e.publish_at != before->publish_at) {
      jobs::EnqueueOptions options;
      options.run_at_ms = *e.publish_at;
      options.max_attempts = 10;
      options.idempotency_key = "content.publish:" + std::to_string(e.id) + ":" + std::to_string(e.version);
      queue_.EnqueueIn(s, kPublishJobKind,
                       nlohmann::json{{"site_id", site_id}, {"entry_id", e.id}, {"publish_at", *e.publish_at}}.dump(),
                       options);
    }
    return e;
  });
  if (changed) {
    queue_.NotifyEnqueued();
    SiteChanged(site_id);
  }
  return updated;
}

void ContentService::DeleteEntry(const audit::Origin& origin, std::int64_t site_id, std::string_view collection_slug,
                                 std::int64_t entry_id, const std::optional<std::string>& if_match, bool force) {
  const auto now = now_ms_();
  db_.Write([&](soci::session& s) {
    auto c = store::GetCollection(s, site_id, collection_slug, true);
    if (!c) throw NoCollection();
    // Locked first: an entry saved meanwhile with a reference to it waits for this transaction (the foreign
    // key of entry_refs), so no reference appears between the check below and the delete.
    auto e = store::GetEntry(s, *c, entry_id, true);
    if (!e) throw NoEntry();
    CheckIfMatch(if_match, *e);
    ResolveReferrers(s, queue_, origin, site_id, store::RefsToEntry(s, site_id, e->id), force, now);
    media::store::DeleteRefs(s, site_id, "entry", e->id);
    store::DeleteEntry(s, *c, e->id);
    store::CloseGap(s, *c, e->position);
    webhooks::EmitIn(queue_, s, site_id, "entry.deleted", EventData(*e));
    audit::Record(s, audit::EntryFrom(origin, "entry.delete", "entry", ObjectId(*e), site_id,
                                      {{"collection", c->slug},
                                       {"status", StatusName(e->status)},
                                       {"slug", e->slug ? nlohmann::json(*e->slug) : nlohmann::json()}}));
  });
  queue_.NotifyEnqueued();
  SiteChanged(site_id);
}

std::vector<std::int64_t> ContentService::Reorder(const audit::Origin& origin, std::int64_t site_id,
                                                  std::string_view collection_slug, const ReorderRequest& request) {
  const bool whole = !request.ids.empty();
  if (whole && (request.id || request.before || request.after)) {
    throw AppError::Validation({{"ids", "invalid", "either ids, or id with before or after"}});
  }
  if (!whole && (!request.id || (request.before.has_value() == request.after.has_value()))) {
    throw AppError::Validation({{request.id ? "before" : "id", "required", "id with exactly one of before or after"}});
  }
  auto order = db_.WriteValue([&](soci::session& s) {
    auto c = store::GetCollection(s, site_id, collection_slug, true);
    if (!c) throw NoCollection();
    const auto current = store::EntryIdsOf(s, *c);
    const std::set<std::int64_t> present(current.begin(), current.end());
    std::vector<std::int64_t> next;
    nlohmann::json changes = {{"collection", c->slug}};
    if (whole) {
      std::set<std::int64_t> listed;
      for (std::size_t i = 0; i < request.ids.size(); ++i) {
        const auto id = request.ids[i];
        const std::string where = "ids[" + std::to_string(i) + "]";
        if (!present.count(id)) throw AppError::Validation({{where, "not_found", "no such entry in the collection"}});
        if (!listed.insert(id).second) throw AppError::Validation({{where, "duplicate", "listed twice"}});
        next.push_back(id);
      }
      for (auto id : current) {
        if (!listed.count(id)) next.push_back(id);
      }
      changes["ids"] = request.ids;
    } else {
      const auto id = *request.id;
      const auto target = request.before ? *request.before : *request.after;
      const char* target_field = request.before ? "before" : "after";
      if (!present.count(id)) throw AppError::Validation({{"id", "not_found", "no such entry in the collection"}});
      if (!present.count(target)) {
        throw AppError::Validation({{target_field, "not_found", "no such entry in the collection"}});
      }
      if (id == target) throw AppError::Validation({{target_field, "invalid", "an entry other than id"}});
      for (auto other : current) {
        if (other != id) next.push_back(other);
      }
      auto at = std::find(next.begin(), next.end(), target);
      next.insert(request.before ? at : at + 1, id);
      changes["id"] = id;
      changes[target_field] = target;
    }
    if (next != current) {
      store::SetPositions(s, *c, next);
      audit::Record(s,
                    audit::EntryFrom(origin, "entry.reorder", "collection", std::to_string(c->id), site_id, changes));
    }
    return next;
  });
  SiteChanged(site_id);
  return order;
}

std::vector<Revision> ContentService::Revisions(std::int64_t site_id, std::string_view collection_slug,
                                                std::int64_t entry_id) {
  return db_.ReadValue([&](soci::session& s) {
    auto c = store::GetCollection(s, site_id, collection_slug);
    if (!c) throw NoCollection();
    if (!store::GetEntry(s, *c, entry_id)) throw NoEntry();
    return store::ListRevisions(s, site_id, entry_id);
  });
}

Entry ContentService::RestoreRevision(const audit::Origin& origin, std::int64_t site_id,
                                      std::string_view collection_slug, std::int64_t entry_id, std::int64_t revision,
                                      const std::optional<std::string>& if_match) {
  const auto now = now_ms_();
  auto restored = db_.WriteValue([&](soci::session& s) {
    auto c = store::GetCollection(s, site_id, collection_slug);
    if (!c) throw NoCollection();
    auto before = store::GetEntry(s, *c, entry_id, true);
    if (!before) throw NoEntry();
    CheckIfMatch(if_match, *before);
    auto rev = store::GetRevision(s, site_id, entry_id, revision);
    if (!rev) throw AppError::NotFound("No such revision.");
    std::vector<FieldError> errors;
    Entry e = *before;
    e.data = ValidateData(c->fields, rev->data, errors);
    ThrowIfAny(std::move(errors));
    CheckReferences(s, *c, e.data, "data");
    e.slug = SlugOf(*c, e.data);
    e.version += 1;
    e.updated_at = now;
    store::UpdateEntry(s, e, TextsOf(*c, e, SearchLanguageFor(s, site_id)));
    WriteDerived(s, *c, e);
    WriteRevision(s, e, origin, now);
    webhooks::EmitIn(queue_, s, site_id, "entry.updated", EventData(e));
    audit::Record(
        s, audit::EntryFrom(
               origin, "entry.restore", "entry", ObjectId(e), site_id,
               {{"collection", c->slug}, {"revision", revision}, {"fields", ChangedFields(before->data, e.data)}}));
    return e;
  });
  queue_.NotifyEnqueued();
  SiteChanged(site_id);
  return restored;
}

void ContentService::RunPublishJob(const jobs::Job& job) {
  auto payload = nlohmann::json::parse(job.payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("site_id") || !payload["site_id"].is_number_integer() ||
      !payload.contains("entry_id") || !payload["entry_id"].is_number_integer() || !payload.contains("publish_at") ||
      !payload["publish_at"].is_number_integer()) {
    throw jobs::PermanentError("content.publish: malformed payload");
  }
  const std::int64_t site_id = payload["site_id"], entry_id = payload["entry_id"], at = payload["publish_at"];
  const auto now = now_ms_();
  if (now < at) throw std::runtime_error("content.publish: the publication time has not come yet");
  audit::Origin origin;
  origin.request_id = "job:" + std::to_string(job.id);
  const bool published = db_.WriteValue([&](soci::session& s) {
    auto slug = store::CollectionSlugOf(s, site_id, entry_id);
    if (!slug) return false;  // deleted since
    auto c = store::GetCollection(s, site_id, *slug);
    if (!c) return false;
    auto e = store::GetEntry(s, *c, entry_id, true);
    if (!e || e->status != EntryStatus::kDraft || e->publish_at != at) return false;  // cancelled or rescheduled
    e->status = EntryStatus::kPublished;
    e->publish_at.reset();
    if (!e->published_at) e->published_at = now;
    e->version += 1;
    e->updated_at = now;
    store::UpdateEntry(s, *e, TextsOf(*c, *e, SearchLanguageFor(s, site_id)));
    WriteRevision(s, *e, origin, now);
    webhooks::EmitIn(queue_, s, site_id, "entry.published", EventData(*e));
    audit::Record(s, audit::EntryFrom(origin, "entry.publish", "entry", ObjectId(*e), site_id,
                                      {{"collection", c->slug}, {"scheduled_at", at}}));
    return true;
  });
  if (published) {
    queue_.NotifyEnqueued();
    SiteChanged(site_id);
  }
}

}  // namespace poste::content
