#pragma once
// How entries are listed: filters, sort, cursor pagination and full-text search, as a struct and as the query
// parameters of the list routes (the admin routes here, and the public read API built on
// ContentService::ListEntries). Public and stable.
//
// Query parameters (percent-encoded; brackets may be sent as %5B %5D):
//   status=published            one status, or several separated by commas (draft, published, archived)
//   data.<field>=v              the field equals v (a list field: contains v; money: the amount)
//   data.<field>[op]=v          op: eq, ne, gt, gte, lt, lte, in (v = comma-separated values)
//   created_at[op]=t            also updated_at, published_at; t = epoch ms, YYYY-MM-DD or RFC 3339
//   sort=position               or created_at, updated_at, published_at, data.<field>; '-' in front: descending
//                               (default: position ascending)
//   q=words                     full-text search; list items then carry a "snippet"
//   limit=20                    1..100
//   cursor=...                  the next_cursor of the previous page (opaque)
// Comparisons follow the field's type: numbers and money numerically, dates and date-times in time order,
// the rest as text. Unknown parameters are refused (400), so a typo never silently widens a list.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/content/content_types.hpp"

namespace poste::content {

inline constexpr int kDefaultListLimit = 20;
inline constexpr int kMaxListLimit = 100;
inline constexpr std::size_t kMaxFilters = 20;
inline constexpr std::size_t kMaxQueryChars = 200;

enum class FilterOp { kEq, kNe, kGt, kGte, kLt, kLte, kIn };
std::string_view FilterOpName(FilterOp op);

struct FieldFilter {
  // A schema field's name, or one of the entry's own times: "created_at", "updated_at", "published_at".
  std::string field;
  bool system = false;  // true for the entry's own times
  FilterOp op = FilterOp::kEq;
  std::vector<std::string> values;  // as given; one value except for kIn. Checked against the field's type.
};

struct EntryQuery {
  std::vector<EntryStatus> statuses;  // empty: every status
  std::vector<FieldFilter> filters;   // all must hold
  // "position", "created_at", "updated_at", "published_at", or a schema field's name (with sort_field = true).
  std::string sort = "position";
  bool sort_field = false;
  bool descending = false;
  std::string cursor;  // opaque, from EntryPage::next_cursor
  int limit = kDefaultListLimit;
  std::string q;  // full-text search; "" = none
};

struct EntryPage {
  std::vector<Entry> items;
  std::optional<std::string> next_cursor;  // set when more entries follow
};

// Parses the query string of a list request (the part after '?'). Throws AppError 400 with the parameter as
// field on a malformed or unknown parameter, a bad limit, too many filters or an over-long q. Whether a field
// exists and a value fits its type is checked when the query runs (422 on "data.<field>").
EntryQuery ParseEntryQuery(std::string_view raw_query);

// The percent-decoded name=value pairs of a query string, in order ('+' is a space). Throws AppError 400 on
// a malformed escape or invalid UTF-8.
std::vector<std::pair<std::string, std::string>> ParseQueryString(std::string_view raw_query);

}  // namespace poste::content
