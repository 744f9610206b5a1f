#include "modules/content/content_fields.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <regex>
#include <set>

#include "lib/json_dump.hpp"
#include "lib/markdown/markdown.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/validate/email.hpp"
#include "lib/validate/slug.hpp"
#include "lib/validate/text.hpp"

namespace poste::content {
namespace {

namespace ascii = validate::ascii;

std::int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2));
}

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (!ascii::IsDigit(s[i])) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool ValidDay(int y, int m, int d) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  return d <= kDays[m - 1] + (m == 2 && IsLeap(y) ? 1 : 0);
}

// Epoch ms of an RFC 3339 date-time, or nullopt.
std::optional<std::int64_t> DateTimeMs(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !Digits(s, 0, 4, y) || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || !(s[10] == 'T' || s[10] == 't' || s[10] == ' ') || !Digits(s, 11, 2, h) || s[13] != ':' ||
      !Digits(s, 14, 2, mi) || s[16] != ':' || !Digits(s, 17, 2, sec)) {
    return std::nullopt;
  }
  if (!ValidDay(y, mo, d) || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  if (sec == 60) sec = 59;  // a leap second: the nearest representable instant
  std::size_t i = 19;
  int ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t digits = 0;
    while (i < s.size() && ascii::IsDigit(s[i])) {
      if (digits < 3) ms = ms * 10 + (s[i] - '0');
      ++digits, ++i;
    }
    if (digits == 0 || digits > 9) return std::nullopt;
    for (std::size_t k = digits; k < 3; ++k) ms *= 10;
  }
  if (i >= s.size()) return std::nullopt;
  int offset_min = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh, om;
    if (!Digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' || !Digits(s, i + 4, 2, om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  const std::int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 24 + h) * 60 + mi - offset_min) * 60000 + sec * 1000LL + ms;
}

std::string FormatUtc(std::int64_t ms) {
  std::int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
  std::int64_t rest = ms - days * 86400000;
  int y;
  unsigned m, d;
  CivilFromDays(days, y, m, d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, static_cast<int>(rest / 3600000),
                static_cast<int>(rest / 60000 % 60), static_cast<int>(rest / 1000 % 60), static_cast<int>(rest % 1000));
  return buf;
}

void Add(std::vector<FieldError>& errors, const std::string& where, const char* code, std::string message) {
  errors.push_back({where, code, std::move(message)});
}

std::string Bound(double v) {
  if (std::trunc(v) == v && std::fabs(v) < 9e15) return std::to_string(static_cast<std::int64_t>(v));
  return nlohmann::json(v).dump();
}

bool CheckText(const FieldDef& f, const std::string& s, std::vector<FieldError>& errors, const std::string& where,
               std::size_t cap, bool multiline) {
  if (!validate::IsValidUtf8(s)) return Add(errors, where, "invalid_utf8", "must be valid UTF-8"), false;
  if (validate::HasControlChars(s, multiline)) {
    return Add(errors, where, "invalid_chars",
               multiline ? "must not hold control characters" : "must be one line without control characters"),
           false;
  }
  const auto length = validate::Utf8Length(s);
  const std::size_t max = f.max ? std::min<double>(cap, std::max(0.0, *f.max)) : cap;
  if (length > max) return Add(errors, where, "too_long", "at most " + std::to_string(max) + " characters"), false;
  if (f.min && static_cast<double>(length) < *f.min) {
    return Add(errors, where, "too_short", "at least " + Bound(*f.min) + " characters"), false;
  }
  if (f.required && length == 0) return Add(errors, where, "required", "must not be empty"), false;
  return true;
}

bool CheckPattern(const FieldDef& f, const std::string& s, std::vector<FieldError>& errors, const std::string& where) {
  if (f.pattern.empty()) return true;
  try {
    if (std::regex_match(s, std::regex(f.pattern, std::regex::ECMAScript))) return true;
  } catch (const std::regex_error&) {  // a pattern too complex for this input (error_complexity / error_stack)
  }
  Add(errors, where, "pattern", "does not match the pattern " + f.pattern);
  return false;
}

bool CheckRange(const FieldDef& f, double v, std::vector<FieldError>& errors, const std::string& where) {
  if (f.min && v < *f.min) return Add(errors, where, "too_small", "at least " + Bound(*f.min)), false;
  if (f.max && v > *f.max) return Add(errors, where, "too_large", "at most " + Bound(*f.max)), false;
  return true;
}

bool IsUrl(const std::string& s) {
  if (s.size() > kMaxUrlBytes || !validate::IsValidUtf8(s)) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7F || c == '"' || c == '<' || c == '>' || c == '\\' || c == '`') return false;
  }
  const std::string lower = ascii::ToLower(s.substr(0, 8));
  std::size_t start;
  if (lower.starts_with("https://")) {
    start = 8;
  } else if (lower.starts_with("http://")) {
    start = 7;
  } else {
    return false;
  }
  const auto end = s.find_first_of("/?#", start);
  const std::string_view authority(s.data() + start, (end == std::string::npos ? s.size() : end) - start);
  return !authority.empty() && authority.find('@') == std::string_view::npos && authority.front() != ':';
}

bool IsPhone(const std::string& s) {
  if (s.size() < 3 || s.size() > 32) return false;
  int digits = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (ascii::IsDigit(c)) {
      ++digits;
    } else if (!(c == ' ' || c == '(' || c == ')' || c == '.' || c == '-' || (c == '+' && i == 0))) {
      return false;
    }
  }
  return digits >= 3;
}

bool IsCurrency(const std::string& s) {
  return s.size() == 3 && ascii::IsUpper(s[0]) && ascii::IsUpper(s[1]) && ascii::IsUpper(s[2]);
}

bool IsPositiveId(const nlohmann::json& v) {
  return (v.is_number_unsigned() && v.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX) &&
          v.get<std::uint64_t>() > 0) ||
         (v.is_number_integer() && v.get<std::int64_t>() > 0);
}

}  // namespace

std::optional<std::string> NormalizeDate(std::string_view s) {
  int y, m, d;
  if (s.size() != 10 || !Digits(s, 0, 4, y) || s[4] != '-' || !Digits(s, 5, 2, m) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || !ValidDay(y, m, d)) {
    return std::nullopt;
  }
  return std::string(s);
}

std::optional<std::string> NormalizeDateTime(std::string_view text) {
  auto ms = DateTimeMs(text);
  if (!ms) return std::nullopt;
  // Offsets can carry a year-1 or year-9999 time across the range: keep the stored form within 4 digits.
  if (*ms < DaysFromCivil(1, 1, 1) * 86400000 || *ms >= DaysFromCivil(10000, 1, 1) * 86400000) return std::nullopt;
  return FormatUtc(*ms);
}

std::optional<std::int64_t> ParseTimeBound(std::string_view text) {
  if (!text.empty() && text.size() <= 15 && text.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    return v;
  }
  if (auto date = NormalizeDate(text)) {
    int y, m, d;
    Digits(text, 0, 4, y), Digits(text, 5, 2, m), Digits(text, 8, 2, d);
    return DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)) * 86400000;
  }
  return DateTimeMs(text);
}

std::optional<nlohmann::json> ValidateValue(const FieldDef& f, const nlohmann::json& v, std::vector<FieldError>& errors,
                                            const std::string& where) {
  auto wrong = [&](const char* expected) -> std::optional<nlohmann::json> {
    Add(errors, where, "invalid_type", std::string("must be ") + expected);
    return std::nullopt;
  };
  auto invalid = [&](const char* message) -> std::optional<nlohmann::json> {
    Add(errors, where, "invalid", message);
    return std::nullopt;
  };
  switch (f.type) {
    case FieldType::kText: {
      if (!v.is_string()) return wrong("a string");
      const auto s = v.get<std::string>();
      if (!CheckText(f, s, errors, where, kMaxTextChars, false) || !CheckPattern(f, s, errors, where)) {
        return std::nullopt;
      }
      if (f.name == "slug" && (!validate::IsValidSlug(s) || s.find_first_not_of("0123456789") == std::string::npos)) {
        return invalid("a slug: ^[a-z0-9]+(-[a-z0-9]+)*$, at most 64 characters, not only digits");
      }
      return v;
    }
    case FieldType::kLongText:
    case FieldType::kMarkdown: {
      if (!v.is_string()) return wrong("a string");
      if (!CheckText(f, v.get<std::string>(), errors, where, kMaxLongTextChars, true)) return std::nullopt;
      return v;
    }
    case FieldType::kNumber: {
      if (!v.is_number() || !std::isfinite(v.get<double>())) return wrong("a number");
      if (!CheckRange(f, v.get<double>(), errors, where)) return std::nullopt;
      return v;
    }
    case FieldType::kInteger: {
      if (!v.is_number_integer() ||
          (v.is_number_unsigned() && v.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))) {
        return wrong("an integer");
      }
      if (!CheckRange(f, static_cast<double>(v.get<std::int64_t>()), errors, where)) return std::nullopt;
      return nlohmann::json(v.get<std::int64_t>());
    }
    case FieldType::kMoney: {
      if (!v.is_object()) return wrong("an object {amount, currency}");
      for (const auto& [key, value] : v.items()) {
        if (key != "amount" && key != "currency") {
          return Add(errors, where + "." + key, "unknown", "unknown key"), std::nullopt;
        }
      }
      auto amount = v.find("amount");
      auto currency = v.find("currency");
      if (amount == v.end() || !amount->is_number_integer() ||
          (amount->is_number_unsigned() && amount->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))) {
        return Add(errors, where + ".amount", "invalid_type", "an integer in minor units (cents)"), std::nullopt;
      }
      if (currency == v.end() || !currency->is_string() || !IsCurrency(currency->get<std::string>())) {
        return Add(errors, where + ".currency", "invalid", "an ISO 4217 code such as CHF or EUR"), std::nullopt;
      }
      const auto cents = amount->get<std::int64_t>();
      if (!CheckRange(f, static_cast<double>(cents), errors, where + ".amount")) return std::nullopt;
      return nlohmann::json{{"amount", cents}, {"currency", currency->get<std::string>()}};
    }
    case FieldType::kBoolean:
      if (!v.is_boolean()) return wrong("true or false");
      return v;
    case FieldType::kDate: {
      if (!v.is_string()) return wrong("a date YYYY-MM-DD");
      auto d = NormalizeDate(v.get<std::string>());
      if (!d) return invalid("a date YYYY-MM-DD");
      return nlohmann::json(*d);
    }
    case FieldType::kDateTime: {
      if (!v.is_string()) return wrong("an RFC 3339 date-time");
      auto d = NormalizeDateTime(v.get<std::string>());
      if (!d) return invalid("an RFC 3339 date-time such as 2025-03-01T09:30:00+01:00");
      return nlohmann::json(*d);
    }
    case FieldType::kEnum: {
      if (!v.is_string()) return wrong("a string");
      for (const auto& o : f.options) {
        if (o == v.get<std::string>()) return v;
      }
      std::string list;
      for (const auto& o : f.options) list += (list.empty() ? "" : ", ") + o;
      Add(errors, where, "invalid", "one of: " + list);
      return std::nullopt;
    }
    case FieldType::kUrl: {
      if (!v.is_string()) return wrong("a string");
      const auto s = v.get<std::string>();
      if (!IsUrl(s)) return invalid("an absolute http:// or https:// URL of at most 2048 bytes");
      if (!CheckPattern(f, s, errors, where)) return std::nullopt;
      return v;
    }
    case FieldType::kEmail: {
      if (!v.is_string()) return wrong("a string");
      const auto s = v.get<std::string>();
      if (!validate::IsValidUtf8(s) || validate::HasControlChars(s, false)) return invalid("an e-mail address");
      const auto email = validate::NormalizeEmail(s);
      if (!validate::IsValidEmail(email)) return invalid("an e-mail address");
      if (!CheckPattern(f, email, errors, where)) return std::nullopt;
      return nlohmann::json(email);
    }
    case FieldType::kPhone: {
      if (!v.is_string()) return wrong("a string");
      const auto s = v.get<std::string>();
      if (!IsPhone(s)) return invalid("a phone number: digits, an optional leading +, spaces, . - ( )");
      if (!CheckPattern(f, s, errors, where)) return std::nullopt;
      return v;
    }
    case FieldType::kMedia:
    case FieldType::kReference:
      if (!IsPositiveId(v)) return wrong("a positive integer id");
      return nlohmann::json(v.get<std::int64_t>());
    case FieldType::kList: {
      if (!v.is_array()) return wrong("an array of strings");
      if (v.size() > kMaxListItems) {
        return Add(errors, where, "too_many", "at most " + std::to_string(kMaxListItems) + " items"), std::nullopt;
      }
      if (!CheckRange(f, static_cast<double>(v.size()), errors, where)) return std::nullopt;
      FieldDef item;  // each item: one line, at most kMaxListItemChars
      for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string at = where + "[" + std::to_string(i) + "]";
        if (!v[i].is_string()) return Add(errors, at, "invalid_type", "must be a string"), std::nullopt;
        if (!CheckText(item, v[i].get<std::string>(), errors, at, kMaxListItemChars, false)) return std::nullopt;
      }
      if (f.required && v.empty()) return Add(errors, where, "required", "must not be empty"), std::nullopt;
      return v;
    }
  }
  return std::nullopt;
}

nlohmann::json ValidateData(const std::vector<FieldDef>& fields, const nlohmann::json& data,
                            std::vector<FieldError>& errors, std::string_view prefix) {
  nlohmann::json out = nlohmann::json::object();
  const std::string p(prefix);
  if (!data.is_object()) {
    errors.push_back({p, "invalid_type", "must be an object of field values"});
    return out;
  }
  for (const auto& [key, value] : data.items()) {
    bool known = false;
    for (const auto& f : fields) known = known || f.name == key;
    if (!known) errors.push_back({p + "." + key, "unknown", "the collection has no such field"});
  }
  for (const auto& f : fields) {
    const std::string where = p + "." + f.name;
    auto it = data.find(f.name);
    if (it == data.end() || it->is_null()) {
      if (f.required) errors.push_back({where, "required", "a value is required"});
      continue;
    }
    if (auto v = ValidateValue(f, *it, errors, where)) out[f.name] = std::move(*v);
  }
  return out;
}

std::vector<std::int64_t> MediaIds(const std::vector<FieldDef>& fields, const nlohmann::json& data) {
  std::vector<std::int64_t> out;
  for (const auto& f : fields) {
    auto it = data.find(f.name);
    if (f.type == FieldType::kMedia && it != data.end() && it->is_number_integer()) {
      out.push_back(it->get<std::int64_t>());
    }
  }
  return out;
}

std::vector<std::pair<const FieldDef*, std::int64_t>> References(const std::vector<FieldDef>& fields,
                                                                 const nlohmann::json& data) {
  std::vector<std::pair<const FieldDef*, std::int64_t>> out;
  for (const auto& f : fields) {
    auto it = data.find(f.name);
    if (f.type == FieldType::kReference && it != data.end() && it->is_number_integer()) {
      out.emplace_back(&f, it->get<std::int64_t>());
    }
  }
  return out;
}

nlohmann::json MarkdownHtml(const std::vector<FieldDef>& fields, const nlohmann::json& data) {
  nlohmann::json html = nlohmann::json::object();
  for (const auto& f : fields) {
    if (f.type != FieldType::kMarkdown) continue;
    auto it = data.find(f.name);
    if (it != data.end() && it->is_string()) html[f.name] = markdown::RenderMarkdown(it->get<std::string>());
  }
  return html.empty() ? nlohmann::json() : html;
}

std::string MarkdownHtmlText(const std::vector<FieldDef>& fields, const nlohmann::json& data) {
  const auto html = MarkdownHtml(fields, data);
  return html.is_null() ? std::string() : DumpJson(html);
}

std::string SearchText(const std::vector<FieldDef>& fields, const nlohmann::json& data) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (s.empty()) return;
    if (!out.empty()) out += '\n';
    out += s;
  };
  for (const auto& f : fields) {
    auto it = data.find(f.name);
    if (it == data.end()) continue;
    switch (f.type) {
      case FieldType::kText:
      case FieldType::kLongText:
      case FieldType::kMarkdown:
      case FieldType::kEnum:
        if (it->is_string()) add(it->get<std::string>());
        break;
      case FieldType::kList:
        for (const auto& item : *it) {
          if (item.is_string()) add(item.get<std::string>());
        }
        break;
      default:
        break;
    }
  }
  return out;
}

std::string UniqueKey(const nlohmann::json& value) { return value.dump(); }

}  // namespace poste::content
