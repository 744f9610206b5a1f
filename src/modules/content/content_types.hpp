#pragma once
// The content module's structs (collections with their field schema, entries, revisions), their JSON mapping
// and the validation of schemas. Entry values are checked in content_fields.hpp; storage is in
// content_store.hpp. Part of the module's public surface (with content_query.hpp and content_service.hpp):
// other modules (the public read API) use Entry, Collection and ToJson.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::content {

inline constexpr std::size_t kMaxFields = 100;
inline constexpr std::size_t kMaxCollectionsPerSite = 200;
inline constexpr std::size_t kMaxNameChars = 200;
inline constexpr std::size_t kMaxDescriptionChars = 2000;
inline constexpr std::size_t kMaxPatternBytes = 200;
inline constexpr std::size_t kMaxEnumOptions = 100;
inline constexpr std::size_t kMaxRevisions = 20;  // kept per entry

enum class FieldType {
  kText,      // one line, at most 1000 code points
  kLongText,  // lines, at most 100,000 code points
  kMarkdown,  // like long text; reads add its HTML under "html"
  kNumber,    // a finite JSON number
  kInteger,   // a JSON integer (64-bit)
  kMoney,     // {"amount": integer in minor units (cents), "currency": "CHF"}
  kBoolean,
  kDate,      // "YYYY-MM-DD"
  kDateTime,  // RFC 3339; stored in UTC as "YYYY-MM-DDTHH:MM:SS.sssZ"
  kEnum,      // one of the field's options
  kUrl,       // absolute http(s) URL
  kEmail,
  kPhone,      // digits with an optional leading '+', spaces, dots, dashes, parentheses
  kMedia,      // a media item's id (positive integer)
  kList,       // array of one-line strings (at most 100, each at most 200 code points)
  kReference,  // the id of another entry of the same site (of `collection` when set)
};

// "text", "long_text", "markdown", "number", "integer", "money", "boolean", "date", "datetime", "enum", "url",
// "email", "phone", "media", "list", "reference".
std::string_view FieldTypeName(FieldType type);
std::optional<FieldType> ParseFieldType(std::string_view name);

struct FieldDef {
  std::string name;  // ^[a-z][a-z0-9_]{0,63}$; a field named "slug" (type text) gives entries their slug
  FieldType type = FieldType::kText;
  std::string label;  // for editors; defaults to the name
  bool required = false;
  bool unique = false;  // within the collection
  // text-like: length in code points; number/integer/money: value (money: amount); list: item count;
  // date/datetime: not used (use a filter); absent = no bound.
  std::optional<double> min;
  std::optional<double> max;
  std::string pattern;               // ECMAScript regex the whole value must match (text, phone, url, email)
  std::vector<std::string> options;  // enum: the allowed values
  std::string collection;            // reference: the target collection's slug ("" = any of the site)
};

struct Collection {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::string slug;
  std::string name;
  std::string description;
  std::vector<FieldDef> fields;
  std::optional<std::string> preset;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;

  const FieldDef* Field(std::string_view name) const;
};

enum class EntryStatus { kDraft, kPublished, kArchived };
std::string_view StatusName(EntryStatus status);  // "draft", "published", "archived"
std::optional<EntryStatus> ParseStatus(std::string_view name);

struct Entry {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::int64_t collection_id = 0;
  std::string collection;  // the collection's slug
  EntryStatus status = EntryStatus::kDraft;
  std::int64_t position = 0;
  nlohmann::json data = nlohmann::json::object();  // {field: value}, validated against the schema
  std::optional<std::string> slug;                 // data.slug, when the collection has that field
  std::int64_t version = 1;                        // bumped by every change; the ETag is made from it
  std::optional<std::int64_t> publish_at;          // a scheduled publication (epoch ms), drafts only
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::optional<std::int64_t> published_at;  // first publication
  nlohmann::json html = nlohmann::json();    // {field: html} of markdown fields, filled on reads (else null)
  std::optional<std::string> snippet;        // with a search (q): HTML-escaped text with <mark> around hits
};

// {id, collection, status, position, data, created_at, updated_at, published_at|null} plus "slug",
// "publish_at", "html" and "snippet" when present.
nlohmann::json ToJson(const Entry& entry);
// The strong ETag of an entry's current version: "\"<id>.<version>\"".
std::string ETagOf(const Entry& entry);

struct Revision {
  std::int64_t entry_id = 0;
  std::int64_t revision = 0;  // the entry's version it recorded
  EntryStatus status = EntryStatus::kDraft;
  nlohmann::json data = nlohmann::json::object();
  std::optional<std::int64_t> actor_user_id;
  std::int64_t created_at = 0;
};
nlohmann::json ToJson(const Revision& revision);  // {revision, status, data, actor_user_id|null, created_at}

// {name, type, label, required, unique, min?, max?, pattern?, options? (enum), collection? (reference)}.
nlohmann::json ToJson(const FieldDef& field);
nlohmann::json FieldsToJson(const std::vector<FieldDef>& fields);
// {id, slug, name, description, preset|null, fields[], created_at, updated_at}.
nlohmann::json ToJson(const Collection& collection);

// A field schema from JSON: every problem is a field error under "<prefix>[i].<key>" (type, name, duplicate
// names, a bad regex, options on a non-enum, min > max, a "slug" field that is not text ...).
std::vector<FieldDef> FieldsFromJson(const nlohmann::json& json, std::vector<FieldError>& errors,
                                     std::string_view prefix = "fields");

// Validation of a collection's own attributes (the schema is checked by FieldsFromJson).
std::vector<FieldError> ValidateCollectionSlug(std::string_view slug);
std::vector<FieldError> ValidateCollectionName(std::string_view name);
std::vector<FieldError> ValidateCollectionDescription(std::string_view description);

// The presets a site adds in one call: "formations" (SWIGS courses) and "pages". nullopt for another name.
struct Preset {
  std::string slug;
  std::string name;
  std::string description;
  std::vector<FieldDef> fields;
};
std::optional<Preset> FindPreset(std::string_view name);

}  // namespace poste::content
