// store::ListEntries: filters, sort, keyset pagination and full-text search over a collection's entries. The
// SQL that differs between SQLite (json_extract, FTS5) and PostgreSQL (jsonb operators, tsvector) is built
// here and only here.
#include <soci/soci.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "db/dialect.hpp"
#include "db/query.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/error.hpp"
#include "lib/html_escape.hpp"
#include "lib/json_dump.hpp"
#include "lib/json_escape.hpp"
#include "modules/content/content_fields.hpp"
#include "modules/content/content_rows.hpp"
#include "modules/content/content_store.hpp"

namespace poste::content::store {
namespace {

using db::Query;

enum class Kind { kInteger, kNumber, kText, kBoolean, kList, kNone };

Kind KindOf(FieldType t) {
  switch (t) {
    case FieldType::kInteger:
    case FieldType::kMoney:
    case FieldType::kMedia:
    case FieldType::kReference:
      return Kind::kInteger;
    case FieldType::kNumber:
      return Kind::kNumber;
    case FieldType::kBoolean:
      return Kind::kBoolean;
    case FieldType::kList:
      return Kind::kList;
    default:
      return Kind::kText;
  }
}

constexpr std::int64_t kIntegerNull = std::numeric_limits<std::int64_t>::min() + 1;  // sorts absent values first
constexpr double kNumberNull = -1e308;

AppError BadFilter(const std::string& field, std::string message) {
  return AppError::Validation({{field, "invalid", std::move(message)}});
}

AppError BadCursor() {
  return AppError::BadRequest("The cursor does not belong to this list.",
                              {{"cursor", "invalid", "use the next_cursor of the previous page with the same sort"}});
}

class Sql {
 public:
  Sql(soci::session& s, Query& q) : pg_(db::DialectOf(s) == db::Dialect::kPostgres), q_(q) {}

  bool pg() const { return pg_; }

  // The field's value as SQL of its kind (NULL when absent). Field names are schema names ([a-z0-9_]).
  std::string Value(const FieldDef& f) const {
    const std::string sub = f.type == FieldType::kMoney ? ".amount" : "";
    if (!pg_) return "json_extract(e.data, '$." + f.name + sub + "')";
    const std::string json = f.type == FieldType::kMoney ? "(CAST(e.data AS jsonb) -> '" + f.name + "' ->> 'amount')"
                                                         : "(CAST(e.data AS jsonb) ->> '" + f.name + "')";
    switch (KindOf(f.type)) {
      case Kind::kInteger:
        return "CAST(" + json + " AS BIGINT)";
      case Kind::kNumber:
        return "CAST(" + json + " AS DOUBLE PRECISION)";
      default:
        return json;
    }
  }

  // A bound value of the field's kind, from the text of a filter or a cursor; throws 422 on field.
  std::string Bind(const FieldDef& f, const std::string& text, const std::string& where) {
    switch (KindOf(f.type)) {
      case Kind::kInteger: {
        std::int64_t v = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc() || end != text.data() + text.size()) throw BadFilter(where, "an integer");
        return q_.Int(v);
      }
      case Kind::kNumber: {
        char* end = nullptr;
        const double v = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) throw BadFilter(where, "a number");
        return Double(v);
      }
      case Kind::kBoolean:
        if (text != "true" && text != "false") throw BadFilter(where, "true or false");
        return pg_ ? q_.Text(text) : q_.Int(text == "true" ? 1 : 0);
      default: {
        if (f.type == FieldType::kDate) {
          auto d = NormalizeDate(text);
          if (!d) throw BadFilter(where, "a date YYYY-MM-DD");
          return q_.Text(*d);
        }
        if (f.type == FieldType::kDateTime) {
          auto d = NormalizeDateTime(text);
          if (!d) throw BadFilter(where, "an RFC 3339 date-time");
          return q_.Text(*d);
        }
        return q_.Text(text);
      }
    }
  }

  std::string Double(double v) { return "CAST(" + q_.Text(nlohmann::json(v).dump()) + " AS DOUBLE PRECISION)"; }

  // Whether the list field holds the value.
  std::string Contains(const FieldDef& f, const std::string& value) {
    if (!pg_) {
      return "EXISTS (SELECT 1 FROM json_each(e.data, '$." + f.name + "') WHERE json_each.value = " + q_.Text(value) +
             ")";
    }
    return "COALESCE((CAST(e.data AS jsonb) -> '" + f.name + "') @> jsonb_build_array(CAST(" + q_.Text(value) +
           " AS TEXT)), FALSE)";
  }

 private:
  bool pg_;
  Query& q_;
};

std::string Compare(const std::string& expr, FilterOp op, const std::vector<std::string>& bound) {
  switch (op) {
    case FilterOp::kEq:
      return expr + " = " + bound[0];
    case FilterOp::kNe:
      return "(" + expr + " IS NULL OR " + expr + " <> " + bound[0] + ")";
    case FilterOp::kGt:
      return expr + " > " + bound[0];
    case FilterOp::kGte:
      return expr + " >= " + bound[0];
    case FilterOp::kLt:
      return expr + " < " + bound[0];
    case FilterOp::kLte:
      return expr + " <= " + bound[0];
    case FilterOp::kIn: {
      std::string list;
      for (const auto& b : bound) list += (list.empty() ? "" : ", ") + b;
      return expr + " IN (" + list + ")";
    }
  }
  return "1 = 0";
}

std::string FilterSql(Sql& sql, Query& q, const Collection& c, const FieldFilter& filter) {
  if (filter.system) {
    const std::string where = filter.field;
    std::vector<std::string> bound;
    for (const auto& v : filter.values) {
      auto ms = ParseTimeBound(v);
      if (!ms) throw BadFilter(where, "epoch milliseconds, a date YYYY-MM-DD or an RFC 3339 date-time");
      bound.push_back(q.Int(*ms));
    }
    return Compare("e." + filter.field, filter.op, bound);
  }
  const std::string where = "data." + filter.field;
  const FieldDef* f = c.Field(filter.field);
  if (!f) throw BadFilter(where, "the collection has no such field");
  if (KindOf(f->type) == Kind::kList) {
    if (filter.op == FilterOp::kEq) return sql.Contains(*f, filter.values[0]);
    if (filter.op == FilterOp::kNe) return "NOT " + sql.Contains(*f, filter.values[0]);
    if (filter.op != FilterOp::kIn) throw BadFilter(where, "a list field takes eq (contains), ne or in");
    std::string any;
    for (const auto& v : filter.values) any += (any.empty() ? "" : " OR ") + sql.Contains(*f, v);
    return "(" + any + ")";
  }
  if (KindOf(f->type) == Kind::kBoolean && filter.op != FilterOp::kEq && filter.op != FilterOp::kNe) {
    throw BadFilter(where, "a boolean field takes eq or ne");
  }
  std::vector<std::string> bound;
  for (const auto& v : filter.values) bound.push_back(sql.Bind(*f, v, where));
  return Compare(sql.Value(*f), filter.op, bound);
}

// The sort: its SQL expression, its kind, and the value of an entry under it (for the next cursor).
struct Sort {
  std::string spec;  // "-data.price", "position", ...
  std::string expr;
  Kind kind = Kind::kInteger;
  const FieldDef* field = nullptr;

  nlohmann::json ValueOf(const EntryRow& row) const {
    if (!field) {
      if (expr == "e.position") return row.position;
      if (expr == "e.created_at") return row.created_at;
      if (expr == "e.updated_at") return row.updated_at;
      return row.published_ind == soci::i_ok ? row.published_at : 0;
    }
    const auto data = nlohmann::json::parse(row.data, nullptr, false);
    auto it = data.is_object() ? data.find(field->name) : data.end();
    if (field->type == FieldType::kMoney && it != data.end()) {
      auto amount = it->find("amount");
      return amount != it->end() ? *amount : nlohmann::json(kIntegerNull);
    }
    if (it == data.end()) {
      return kind == Kind::kInteger  ? nlohmann::json(kIntegerNull)
             : kind == Kind::kNumber ? nlohmann::json(kNumberNull)
                                     : nlohmann::json("");
    }
    return *it;
  }
};

Sort MakeSort(const Sql& sql, const Collection& c, const EntryQuery& query) {
  Sort sort;
  sort.spec = std::string(query.descending ? "-" : "") + (query.sort_field ? "data." : "") + query.sort;
  if (!query.sort_field) {
    sort.expr = query.sort == "published_at" ? "COALESCE(e.published_at, 0)" : "e." + query.sort;
    if (query.sort == "published_at") sort.expr = "COALESCE(e.published_at, 0)";
    return sort;
  }
  sort.field = c.Field(query.sort);
  if (!sort.field) throw AppError::Validation({{"sort", "invalid", "the collection has no field " + query.sort}});
  sort.kind = KindOf(sort.field->type);
  const auto t = sort.field->type;
  if (sort.kind == Kind::kBoolean || sort.kind == Kind::kList || t == FieldType::kLongText ||
      t == FieldType::kMarkdown) {
    throw AppError::Validation({{"sort", "invalid", "entries cannot be sorted by a field of this type"}});
  }
  const std::string value = sql.Value(*sort.field);
  if (sort.kind == Kind::kInteger) {
    sort.expr = "COALESCE(" + value + ", " + std::to_string(kIntegerNull) + ")";
  } else if (sort.kind == Kind::kNumber) {
    sort.expr = "COALESCE(" + value + ", CAST('-1e308' AS DOUBLE PRECISION))";
  } else {
    sort.expr = "COALESCE(" + value + ", '')";
  }
  return sort;
}

std::string EncodeCursor(const Sort& sort, const EntryRow& last) {
  nlohmann::json c = {{"s", sort.spec}, {"v", sort.ValueOf(last)}, {"i", last.id}};
  return crypto::Base64UrlEncode(c.dump());
}

// The keyset condition "after the cursor's row" in the sort's direction.
std::string CursorSql(Sql& sql, Query& q, const Sort& sort, bool descending, const std::string& cursor) {
  auto raw = crypto::Base64UrlDecode(cursor);
  if (!raw) throw BadCursor();
  auto c = nlohmann::json::parse(*raw, nullptr, false);
  if (!c.is_object() || !c.contains("s") || !c["s"].is_string() || c["s"] != sort.spec || !c.contains("i") ||
      !c["i"].is_number_integer() || !c.contains("v")) {
    throw BadCursor();
  }
  const auto& v = c["v"];
  auto bind = [&]() -> std::string {
    if (sort.kind == Kind::kInteger) {
      if (!v.is_number_integer()) throw BadCursor();
      return q.Int(v.get<std::int64_t>());
    }
    if (sort.kind == Kind::kNumber) {
      if (!v.is_number()) throw BadCursor();
      return sql.Double(v.get<double>());
    }
    if (!v.is_string()) throw BadCursor();
    return q.Text(v.get<std::string>());
  };
  const std::string cmp = descending ? " < " : " > ";
  const std::string first = bind(), second = bind();
  return "(" + sort.expr + cmp + first + " OR (" + sort.expr + " = " + second + " AND e.id" + cmp +
         q.Int(c["i"].get<std::int64_t>()) + "))";
}

// Words of a search as an FTS5 query: each whitespace-separated word quoted (so no FTS5 syntax can be
// injected), all required. Words without a letter or digit are dropped.
std::string Fts5Query(const std::string& text) {
  std::string out, word;
  auto flush = [&] {
    bool useful = false;
    for (unsigned char ch : word) useful = useful || ch >= 0x80 || std::isalnum(ch);
    if (useful) out += (out.empty() ? "\"" : " \"") + word + "\"";
    word.clear();
  };
  for (char ch : text) {
    if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
      flush();
    } else if (ch != '"') {
      word += ch;
    }
  }
  flush();
  return out;
}

// The snippet with every character HTML-escaped and the hit markers (\x01, \x02: control characters that
// stored text never holds) turned into <mark> tags.
std::string SnippetHtml(const std::string& raw) {
  std::string out;
  out.reserve(raw.size() + 32);
  std::size_t at = 0;
  while (at <= raw.size()) {
    const auto marker = raw.find_first_of("\x01\x02", at);
    AppendHtmlEscaped(out,
                      std::string_view(raw).substr(at, marker == std::string::npos ? std::string::npos : marker - at));
    if (marker == std::string::npos) break;
    out += raw[marker] == '\x01' ? "<mark>" : "</mark>";
    at = marker + 1;
  }
  return out;
}

// The entry's JSON as DumpJson(ToJson(entry)) writes it (keys in nlohmann's sorted order), from the row's
// stored texts: data and the rendered markdown were written by this store as compact JSON, so they are
// copied, not parsed and encoded again.
void AppendEntryJson(std::string& out, const Collection& c, const EntryRow& row, const std::string* snippet) {
  auto number = [&](const char* key, long long v) {
    out += key;
    out += std::to_string(v);
  };
  out += "{\"collection\":";
  AppendJsonString(out, c.slug);
  number(",\"created_at\":", row.created_at);
  out += ",\"data\":";
  out += row.data;
  if (row.html_ind != soci::i_ok) {
    const auto data = nlohmann::json::parse(row.data, nullptr, false);
    const auto html = data.is_object() ? MarkdownHtmlText(c.fields, data) : std::string();
    if (!html.empty()) out.append(",\"html\":").append(html);
  } else if (!row.html.empty()) {
    out.append(",\"html\":").append(row.html);
  }
  number(",\"id\":", row.id);
  number(",\"position\":", row.position);
  if (row.publish_ind == soci::i_ok) number(",\"publish_at\":", row.publish_at);
  out += ",\"published_at\":";
  out += row.published_ind == soci::i_ok ? std::to_string(row.published_at) : std::string("null");
  if (row.slug_ind == soci::i_ok) {
    out += ",\"slug\":";
    AppendJsonString(out, row.slug);  // a slug: [a-z0-9-], nothing to escape
  }
  if (snippet) out.append(",\"snippet\":").append(DumpJson(nlohmann::json(*snippet)));
  out += ",\"status\":";
  AppendJsonString(out, StatusName(ParseStatus(row.status).value_or(EntryStatus::kDraft)));
  number(",\"updated_at\":", row.updated_at);
  out += '}';
}

// Runs the page's query and calls each(row, snippet or nullptr) for its entries in order; returns the
// next cursor when there are more.
template <class Each>
std::optional<std::string> ListRows(soci::session& s, const Collection& c, const EntryQuery& query,
                                    const std::string& search_language, Each&& each) {
  Query q(s);
  Sql sql(s, q);
  EntryRow row;
  row.BindTo(q);
  std::string snippet;
  soci::indicator snippet_ind = soci::i_ok;

  std::string select = "SELECT " + std::string(kEntryColumns);
  std::string from = " FROM entries e";
  std::string where = " WHERE e.collection_id = " + q.Int(c.id) + " AND e.site_id = " + q.Int(c.site_id);
  const bool searching = !query.q.empty();
  if (searching) {
    const std::string terms = Fts5Query(query.q);
    if (terms.empty()) return std::nullopt;  // nothing searchable: no entry matches
    q.Into(snippet, snippet_ind);
    if (sql.pg()) {
      auto tsquery = [&] {
        return "websearch_to_tsquery(CAST(" + q.Text(search_language) + " AS regconfig), " + q.Text(query.q) + ")";
      };
      select += ", ts_headline(CAST(" + q.Text(search_language) + " AS regconfig), e.search_text, " + tsquery() + ", " +
                q.Text("StartSel=\x01, StopSel=\x02, MaxWords=24, MinWords=8, MaxFragments=2") + ")";
      where += " AND e.search @@ " + tsquery();
    } else {
      select += ", snippet(entries_fts, 0, char(1), char(2), '…', 16)";
      from += " JOIN entries_fts ON entries_fts.rowid = e.id";
      where += " AND entries_fts MATCH " + q.Text(terms);
    }
  }
  if (!query.statuses.empty()) {
    std::string list;
    for (auto st : query.statuses) list += (list.empty() ? "" : ", ") + q.Text(std::string(StatusName(st)));
    where += " AND e.status IN (" + list + ")";
  }
  for (const auto& filter : query.filters) where += " AND " + FilterSql(sql, q, c, filter);
  const Sort sort = MakeSort(sql, c, query);
  if (!query.cursor.empty()) where += " AND " + CursorSql(sql, q, sort, query.descending, query.cursor);
  const std::string dir = query.descending ? " DESC" : " ASC";
  const int limit = std::clamp(query.limit, 1, kMaxListLimit);
  const std::string statement =
      select + from + where + " ORDER BY " + sort.expr + dir + ", e.id" + dir + " LIMIT " + std::to_string(limit + 1);
  std::string last_cursor;
  int n = 0;
  if (q.Execute(statement)) {
    do {
      // The row past the page's end only says that there is more: the cursor is the page's last entry's.
      if (n == limit) return last_cursor;
      if (n == limit - 1) last_cursor = EncodeCursor(sort, row);
      std::string html_snippet;
      if (searching) html_snippet = SnippetHtml(snippet_ind == soci::i_ok ? snippet : "");
      each(row, searching ? &html_snippet : nullptr);
      ++n;
    } while (q.Fetch());
  }
  return std::nullopt;
}

}  // namespace

EntryPage ListEntries(soci::session& s, const Collection& c, const EntryQuery& query,
                      const std::string& search_language) {
  EntryPage page;
  page.next_cursor = ListRows(s, c, query, search_language, [&](const EntryRow& row, const std::string* snippet) {
    page.items.push_back(row.Get(c));
    if (snippet) page.items.back().snippet = *snippet;
  });
  return page;
}

std::string ListEntriesJson(soci::session& s, const Collection& c, const EntryQuery& query,
                            const std::string& search_language) {
  std::string out = "{\"items\":[";
  bool first = true;
  auto next = ListRows(s, c, query, search_language, [&](const EntryRow& row, const std::string* snippet) {
    if (!first) out += ',';
    first = false;
    AppendEntryJson(out, c, row, snippet);
  });
  out += "],\"next_cursor\":";
  if (next) {
    AppendJsonString(out, *next);  // base64url: nothing to escape
  } else {
    out += "null";
  }
  out += '}';
  return out;
}

}  // namespace poste::content::store
