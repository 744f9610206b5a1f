#include "modules/content/content_query.hpp"

#include <charconv>

#include "lib/validate/text.hpp"
#include "lib/web/message.hpp"

namespace poste::content {
namespace {

AppError BadParam(const std::string& name, std::string message) {
  return AppError::BadRequest("Invalid query parameter " + name + ".", {{name, "invalid", std::move(message)}});
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::optional<FilterOp> ParseOp(std::string_view op) {
  static constexpr std::pair<std::string_view, FilterOp> kOps[] = {
      {"eq", FilterOp::kEq}, {"ne", FilterOp::kNe},   {"gt", FilterOp::kGt}, {"gte", FilterOp::kGte},
      {"lt", FilterOp::kLt}, {"lte", FilterOp::kLte}, {"in", FilterOp::kIn}};
  for (const auto& [name, value] : kOps) {
    if (name == op) return value;
  }
  return std::nullopt;
}

bool IsSystemTime(std::string_view name) {
  return name == "created_at" || name == "updated_at" || name == "published_at";
}

}  // namespace

std::string_view FilterOpName(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return "eq";
    case FilterOp::kNe:
      return "ne";
    case FilterOp::kGt:
      return "gt";
    case FilterOp::kGte:
      return "gte";
    case FilterOp::kLt:
      return "lt";
    case FilterOp::kLte:
      return "lte";
    case FilterOp::kIn:
      return "in";
  }
  return "eq";
}

std::vector<std::pair<std::string, std::string>> ParseQueryString(std::string_view raw) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= raw.size()) {
    auto amp = raw.find('&', start);
    std::string_view part = raw.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!part.empty()) {
      auto eq = part.find('=');
      auto name = web::PercentDecode(part.substr(0, eq), true);
      auto value = web::PercentDecode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1), true);
      if (!name || !value || !validate::IsValidUtf8(*name) || !validate::IsValidUtf8(*value)) {
        throw AppError::BadRequest("The query string is malformed.",
                                   {{"query", "invalid", "malformed percent-encoding or invalid UTF-8"}});
      }
      out.emplace_back(std::move(*name), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

EntryQuery ParseEntryQuery(std::string_view raw_query) {
  EntryQuery query;
  for (auto& [name, value] : ParseQueryString(raw_query)) {
    if (validate::HasControlChars(name, false) || validate::HasControlChars(value, false)) {
      throw BadParam(name.empty() ? "query" : name, "must not hold control characters");
    }
    if (name == "status") {
      for (const auto& s : SplitCommas(value)) {
        auto status = ParseStatus(s);
        if (!status) throw BadParam("status", "draft, published or archived (comma-separated)");
        query.statuses.push_back(*status);
      }
    } else if (name == "sort") {
      std::string_view sort = value;
      query.descending = sort.starts_with('-');
      if (query.descending) sort.remove_prefix(1);
      if (sort.starts_with("data.")) {
        query.sort = std::string(sort.substr(5));
        query.sort_field = true;
        if (query.sort.empty() || query.sort.size() > 64) throw BadParam("sort", "data.<field> names a field");
      } else if (sort == "position" || IsSystemTime(sort)) {
        query.sort = std::string(sort);
      } else {
        throw BadParam("sort", "position, created_at, updated_at, published_at or data.<field>, '-' for descending");
      }
    } else if (name == "limit") {
      int limit = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
      if (ec != std::errc() || end != value.data() + value.size() || limit < 1 || limit > kMaxListLimit) {
        throw BadParam("limit", "an integer from 1 to " + std::to_string(kMaxListLimit));
      }
      query.limit = limit;
    } else if (name == "cursor") {
      if (value.size() > 1024) throw BadParam("cursor", "not a cursor of this list");
      query.cursor = value;
    } else if (name == "q") {
      if (validate::Utf8Length(value) > kMaxQueryChars) {
        throw BadParam("q", "at most " + std::to_string(kMaxQueryChars) + " characters");
      }
      query.q = value;
    } else {
      // data.<field>, data.<field>[op], created_at[op], ...
      std::string base = name;
      FilterOp op = FilterOp::kEq;
      if (auto bracket = name.find('['); bracket != std::string::npos) {
        if (!name.ends_with(']')) throw BadParam(name, "a filter is name[op]=value");
        auto parsed = ParseOp(std::string_view(name).substr(bracket + 1, name.size() - bracket - 2));
        if (!parsed) throw BadParam(name, "op is one of eq, ne, gt, gte, lt, lte, in");
        op = *parsed;
        base = name.substr(0, bracket);
      }
      FieldFilter filter;
      filter.op = op;
      if (base.starts_with("data.") && base.size() > 5 && base.size() <= 69) {
        filter.field = base.substr(5);
      } else if (IsSystemTime(base)) {
        filter.field = base;
        filter.system = true;
      } else {
        throw BadParam(name, "unknown parameter");
      }
      filter.values = op == FilterOp::kIn ? SplitCommas(value) : std::vector<std::string>{value};
      if (filter.values.size() > 100) throw BadParam(name, "at most 100 values");
      query.filters.push_back(std::move(filter));
      if (query.filters.size() > kMaxFilters)
        throw BadParam(name, "at most " + std::to_string(kMaxFilters) + " filters");
    }
  }
  return query;
}

}  // namespace poste::content
