#include "modules/content/entry_writes.hpp"

#include <soci/soci.h>

#include <chrono>
#include <set>

#include "db/dialect.hpp"
#include "lib/json_dump.hpp"
#include "modules/content/content_fields.hpp"
#include "modules/content/content_store.hpp"
#include "modules/media/media_refs_store.hpp"

namespace poste::content::internal {

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::pair<std::string, std::string>> UniqueValues(const Collection& c, const nlohmann::json& data) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& f : c.fields) {
    auto it = data.find(f.name);
    if (f.unique && it != data.end() && !it->is_null()) out.emplace_back(f.name, UniqueKey(*it));
  }
  return out;
}

std::optional<std::string> SlugOf(const Collection& c, const nlohmann::json& data) {
  if (!c.Field("slug")) return std::nullopt;
  auto it = data.find("slug");
  if (it == data.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::string SearchLanguageFor(soci::session& s, std::int64_t site_id) {
  return db::DialectOf(s) == db::Dialect::kPostgres ? store::SearchLanguage(s, site_id) : std::string("simple");
}

void WriteDerived(soci::session& s, const Collection& c, const Entry& e) {
  store::ReplaceUniqueValues(s, c, e.id, UniqueValues(c, e.data));
  // Only items that exist: a forced media deletion clears the values that used the item in its transaction,
  // so a value without an item is not expected, but it must not fail the entry's save.
  media::store::ReplaceRefs(s, c.site_id, "entry", e.id,
                            media::store::ExistingMediaIds(s, c.site_id, MediaIds(c.fields, e.data)));
  std::vector<std::pair<std::string, std::int64_t>> refs;
  for (const auto& [field, id] : References(c.fields, e.data)) refs.emplace_back(field->name, id);
  store::ReplaceEntryRefs(s, c.site_id, e.id, refs);
}

void WriteRevision(soci::session& s, const Entry& e, const audit::Origin& origin, std::int64_t now) {
  Revision r;
  r.entry_id = e.id;
  r.revision = e.version;
  r.status = e.status;
  r.data = e.data;
  r.actor_user_id = origin.user_id;
  r.created_at = now;
  store::InsertRevision(s, e.site_id, r);
  store::PruneRevisions(s, e.site_id, e.id, kMaxRevisions);
}

store::EntryTexts TextsOf(const Collection& c, Entry& e, std::string search_language) {
  e.html = MarkdownHtml(c.fields, e.data);
  return {SearchText(c.fields, e.data), std::move(search_language),
          e.html.is_null() ? std::string() : DumpJson(e.html)};
}

nlohmann::json EventData(const Entry& e) {
  return {{"collection", e.collection}, {"entry_id", e.id}, {"status", StatusName(e.status)}};
}

nlohmann::json ChangedFields(const nlohmann::json& before, const nlohmann::json& after) {
  std::set<std::string> names;
  for (const auto& [k, v] : before.items()) {
    if (!after.contains(k) || after[k] != v) names.insert(k);
  }
  for (const auto& [k, v] : after.items()) {
    if (!before.contains(k)) names.insert(k);
  }
  return names;
}

}  // namespace poste::content::internal
