#pragma once
// Entry values against a collection's field schema: type checks, rules (required, min, max, pattern; unique
// is the store's job), normalisation (e-mail domains lower-cased, date-times in UTC), and what a value
// contributes elsewhere (media references, entry references, search text, unique keys). Internal to the
// module.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"
#include "modules/content/content_types.hpp"

namespace poste::content {

inline constexpr std::size_t kMaxTextChars = 1000;
inline constexpr std::size_t kMaxLongTextChars = 100000;
inline constexpr std::size_t kMaxListItems = 100;
inline constexpr std::size_t kMaxListItemChars = 200;
inline constexpr std::size_t kMaxUrlBytes = 2048;

// The data as stored: every schema field present in `data` checked and normalised; null values dropped.
// Errors are "<prefix>.<field>" (unknown keys: code "unknown"; missing required: "required").
nlohmann::json ValidateData(const std::vector<FieldDef>& fields, const nlohmann::json& data,
                            std::vector<FieldError>& errors, std::string_view prefix = "data");

// One value (not null) against its field; nullopt with errors appended when it does not fit.
std::optional<nlohmann::json> ValidateValue(const FieldDef& field, const nlohmann::json& value,
                                            std::vector<FieldError>& errors, const std::string& where);

std::vector<std::int64_t> MediaIds(const std::vector<FieldDef>& fields, const nlohmann::json& data);
// (field, referenced entry id) for each reference field set in data.
std::vector<std::pair<const FieldDef*, std::int64_t>> References(const std::vector<FieldDef>& fields,
                                                                 const nlohmann::json& data);
// The entry's words for the full-text index: text, long text, markdown, enum and list values, one per line.
std::string SearchText(const std::vector<FieldDef>& fields, const nlohmann::json& data);
// The entry's markdown fields rendered to HTML: {field: html}, null when it has none.
nlohmann::json MarkdownHtml(const std::vector<FieldDef>& fields, const nlohmann::json& data);
// The same as stored in entries.html: its compact JSON, "" when there is nothing.
std::string MarkdownHtmlText(const std::vector<FieldDef>& fields, const nlohmann::json& data);
// The key under which a unique field's value is kept (the value's compact JSON).
std::string UniqueKey(const nlohmann::json& value);

// "YYYY-MM-DD" (a real calendar day, years 0001..9999): the same text, else nullopt.
std::optional<std::string> NormalizeDate(std::string_view text);
// RFC 3339 ("T", "t" or " " between date and time; Z or an offset; fractions to the millisecond): the UTC
// form "YYYY-MM-DDTHH:MM:SS.sssZ", else nullopt.
std::optional<std::string> NormalizeDateTime(std::string_view text);
// A time bound of a filter: epoch ms (digits), a date (its midnight UTC) or an RFC 3339 date-time.
std::optional<std::int64_t> ParseTimeBound(std::string_view text);

}  // namespace poste::content
