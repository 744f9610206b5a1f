#pragma once
// What the collection and entry halves of ContentService share (collection_service.cpp, entry_service.cpp,
// entry_references.cpp): the errors they answer, an entry's derived rows (unique values, media and entry
// references), its revision, its webhook payload, and the texts stored with it (search text, rendered markdown).
// Internal to the module; every function that takes a session runs inside the caller's transaction.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "lib/error.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/content/content_store.hpp"
#include "modules/content/content_types.hpp"

namespace soci {
class session;
}
namespace poste::jobs {
class JobQueue;
}

namespace poste::content::internal {

inline void ThrowIfAny(std::vector<FieldError> errors) {
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
}
inline AppError NoCollection() { return AppError::NotFound("No such collection."); }
inline AppError NoEntry() { return AppError::NotFound("No such entry."); }

std::int64_t SystemNowMs();

// The (field, UniqueKey) pairs of the entry's unique fields.
std::vector<std::pair<std::string, std::string>> UniqueValues(const Collection& c, const nlohmann::json& data);
// data.slug when the collection has a "slug" field.
std::optional<std::string> SlugOf(const Collection& c, const nlohmann::json& data);
// The site's text search configuration on PostgreSQL ("simple" on SQLite, where it is not used).
std::string SearchLanguageFor(soci::session& s, std::int64_t site_id);

// Writes the entry's derived rows: unique values, media references, entry references.
void WriteDerived(soci::session& s, const Collection& c, const Entry& e);
// Records the entry's current version as a revision (keeping the newest kMaxRevisions).
void WriteRevision(soci::session& s, const Entry& e, const audit::Origin& origin, std::int64_t now);

// What the store writes with an entry besides its columns: its search text and language, and its markdown
// fields rendered (also put in e.html, for the answer to the write).
store::EntryTexts TextsOf(const Collection& c, Entry& e, std::string search_language);
// The data of entry.* webhook events.
nlohmann::json EventData(const Entry& e);
// The names of the fields whose values differ between two data documents (a JSON array).
nlohmann::json ChangedFields(const nlohmann::json& before, const nlohmann::json& after);

// The references of other entries to entries about to be deleted (entry_references.cpp): nothing to do when
// there are none; 409 listing them ("referenced_by") unless force; with force, each referring entry loses
// those values (the fields become null) as a new version with its revision, audit entry and entry.updated
// event. Returns whether an entry changed.
bool ResolveReferrers(soci::session& s, jobs::JobQueue& queue, const audit::Origin& origin, std::int64_t site_id,
                      const std::vector<store::EntryRef>& refs, bool force, std::int64_t now);

}  // namespace poste::content::internal
