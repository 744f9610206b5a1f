#include "modules/content/content_types.hpp"

#include <array>
#include <cmath>
#include <regex>
#include <set>
#include <utility>

#include "lib/validate/slug.hpp"
#include "lib/validate/text.hpp"

namespace poste::content {
namespace {

constexpr std::array<std::pair<FieldType, std::string_view>, 16> kTypeNames = {{
    {FieldType::kText, "text"},
    {FieldType::kLongText, "long_text"},
    {FieldType::kMarkdown, "markdown"},
    {FieldType::kNumber, "number"},
    {FieldType::kInteger, "integer"},
    {FieldType::kMoney, "money"},
    {FieldType::kBoolean, "boolean"},
    {FieldType::kDate, "date"},
    {FieldType::kDateTime, "datetime"},
    {FieldType::kEnum, "enum"},
    {FieldType::kUrl, "url"},
    {FieldType::kEmail, "email"},
    {FieldType::kPhone, "phone"},
    {FieldType::kMedia, "media"},
    {FieldType::kList, "list"},
    {FieldType::kReference, "reference"},
}};

bool IsFieldName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool TakesPattern(FieldType t) {
  return t == FieldType::kText || t == FieldType::kPhone || t == FieldType::kUrl || t == FieldType::kEmail;
}

// Patterns run on editors' and visitors' input with a backtracking engine: a quantified group that holds a
// quantifier itself ("(a+)+", "(a|aa)*" aside) or a back-reference can take exponential time. Refused.
bool HasNestedQuantifier(std::string_view p) {
  std::vector<bool> inner;  // per open group: whether it holds a quantifier
  bool escaped = false, in_class = false;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (escaped) {
      escaped = false;
      if (c >= '1' && c <= '9') return true;  // back-reference
      continue;
    }
    if (c == '\\') {
      escaped = true;
      continue;
    }
    if (in_class) {
      in_class = c != ']';
      continue;
    }
    if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      inner.push_back(false);
    } else if (c == '*' || c == '+' || c == '{' || (c == '?' && i > 0 && p[i - 1] != '(')) {
      if (!inner.empty()) inner.back() = true;
    } else if (c == ')' && !inner.empty()) {
      const bool quantified_inside = inner.back();
      inner.pop_back();
      const char next = i + 1 < p.size() ? p[i + 1] : '\0';
      if (quantified_inside && (next == '*' || next == '+' || next == '{')) return true;
      if (quantified_inside && !inner.empty()) inner.back() = true;
    }
  }
  return false;
}

bool TakesBounds(FieldType t) {
  switch (t) {
    case FieldType::kText:
    case FieldType::kLongText:
    case FieldType::kMarkdown:
    case FieldType::kNumber:
    case FieldType::kInteger:
    case FieldType::kMoney:
    case FieldType::kList:
      return true;
    default:
      return false;
  }
}

bool TakesUnique(FieldType t) {
  switch (t) {
    case FieldType::kLongText:
    case FieldType::kMarkdown:
    case FieldType::kBoolean:
    case FieldType::kList:
      return false;
    default:
      return true;
  }
}

FieldDef Field(std::string name, FieldType type, std::string label, bool required = false) {
  FieldDef f;
  f.name = std::move(name);
  f.type = type;
  f.label = std::move(label);
  f.required = required;
  return f;
}

std::vector<FieldError> TextErrors(std::string_view value, std::string_view field, std::size_t max, bool multiline,
                                   bool required) {
  std::vector<FieldError> errors;
  const std::string f(field);
  if (!validate::IsValidUtf8(value)) return {{f, "invalid_utf8", "must be valid UTF-8"}};
  if (validate::HasControlChars(value, multiline)) return {{f, "invalid_chars", "must not hold control characters"}};
  const auto length = validate::Utf8Length(value);
  if (required && length == 0) errors.push_back({f, "required", "must not be empty"});
  if (length > max) errors.push_back({f, "too_long", "at most " + std::to_string(max) + " characters"});
  return errors;
}

}  // namespace

std::string_view FieldTypeName(FieldType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "text";
}

std::optional<FieldType> ParseFieldType(std::string_view name) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) return t;
  }
  return std::nullopt;
}

const FieldDef* Collection::Field(std::string_view name) const {
  for (const auto& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view StatusName(EntryStatus status) {
  switch (status) {
    case EntryStatus::kDraft:
      return "draft";
    case EntryStatus::kPublished:
      return "published";
    case EntryStatus::kArchived:
      return "archived";
  }
  return "draft";
}

std::optional<EntryStatus> ParseStatus(std::string_view name) {
  if (name == "draft") return EntryStatus::kDraft;
  if (name == "published") return EntryStatus::kPublished;
  if (name == "archived") return EntryStatus::kArchived;
  return std::nullopt;
}

nlohmann::json ToJson(const Entry& e) {
  auto opt = [](const std::optional<std::int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  nlohmann::json j = {{"id", e.id},
                      {"collection", e.collection},
                      {"status", StatusName(e.status)},
                      {"position", e.position},
                      {"data", e.data},
                      {"created_at", e.created_at},
                      {"updated_at", e.updated_at},
                      {"published_at", opt(e.published_at)}};
  if (e.slug) j["slug"] = *e.slug;
  if (e.publish_at) j["publish_at"] = *e.publish_at;
  if (e.html.is_object() && !e.html.empty()) j["html"] = e.html;
  if (e.snippet) j["snippet"] = *e.snippet;
  return j;
}

std::string ETagOf(const Entry& entry) {
  return "\"" + std::to_string(entry.id) + "." + std::to_string(entry.version) + "\"";
}

nlohmann::json ToJson(const Revision& r) {
  return {{"revision", r.revision},
          {"status", StatusName(r.status)},
          {"data", r.data},
          {"actor_user_id", r.actor_user_id ? nlohmann::json(*r.actor_user_id) : nlohmann::json()},
          {"created_at", r.created_at}};
}

nlohmann::json ToJson(const FieldDef& f) {
  nlohmann::json j = {{"name", f.name},
                      {"type", FieldTypeName(f.type)},
                      {"label", f.label.empty() ? f.name : f.label},
                      {"required", f.required},
                      {"unique", f.unique}};
  auto number = [](double v) {
    return std::trunc(v) == v && std::fabs(v) < 9e15 ? nlohmann::json(static_cast<std::int64_t>(v)) : nlohmann::json(v);
  };
  if (f.min) j["min"] = number(*f.min);
  if (f.max) j["max"] = number(*f.max);
  if (!f.pattern.empty()) j["pattern"] = f.pattern;
  if (f.type == FieldType::kEnum) j["options"] = f.options;
  if (f.type == FieldType::kReference && !f.collection.empty()) j["collection"] = f.collection;
  return j;
}

nlohmann::json FieldsToJson(const std::vector<FieldDef>& fields) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : fields) out.push_back(ToJson(f));
  return out;
}

nlohmann::json ToJson(const Collection& c) {
  return {{"id", c.id},
          {"slug", c.slug},
          {"name", c.name},
          {"description", c.description},
          {"preset", c.preset ? nlohmann::json(*c.preset) : nlohmann::json()},
          {"fields", FieldsToJson(c.fields)},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at}};
}

std::vector<FieldDef> FieldsFromJson(const nlohmann::json& json, std::vector<FieldError>& errors,
                                     std::string_view prefix) {
  std::vector<FieldDef> out;
  const std::string p(prefix);
  if (!json.is_array()) {
    errors.push_back({p, "invalid_type", "must be an array of field definitions"});
    return out;
  }
  if (json.size() > kMaxFields) {
    errors.push_back({p, "too_many", "at most " + std::to_string(kMaxFields) + " fields"});
    return out;
  }
  std::set<std::string> names;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const auto& item = json[i];
    const std::string at = p + "[" + std::to_string(i) + "]";
    auto err = [&](const std::string& key, const char* code, std::string message) {
      errors.push_back({at + "." + key, code, std::move(message)});
    };
    if (!item.is_object()) {
      errors.push_back({at, "invalid_type", "must be an object"});
      continue;
    }
    static const std::set<std::string> kKeys = {"name", "type", "label",   "required", "unique",
                                                "min",  "max",  "pattern", "options",  "collection"};
    for (const auto& [key, value] : item.items()) {
      if (!kKeys.count(key)) err(key, "unknown", "unknown key");
    }
    FieldDef f;
    auto str = [&](const char* key) -> std::optional<std::string> {
      auto it = item.find(key);
      if (it == item.end() || it->is_null()) return std::nullopt;
      if (!it->is_string()) return err(key, "invalid_type", "must be a string"), std::nullopt;
      return it->get<std::string>();
    };
    auto boolean = [&](const char* key) {
      auto it = item.find(key);
      if (it == item.end() || it->is_null()) return false;
      if (!it->is_boolean()) return err(key, "invalid_type", "must be a boolean"), false;
      return it->get<bool>();
    };
    auto number = [&](const char* key) -> std::optional<double> {
      auto it = item.find(key);
      if (it == item.end() || it->is_null()) return std::nullopt;
      if (!it->is_number() || !std::isfinite(it->get<double>())) {
        return err(key, "invalid_type", "must be a number"), std::nullopt;
      }
      return it->get<double>();
    };
    f.name = str("name").value_or("");
    if (!IsFieldName(f.name)) {
      err("name", "invalid", "1..64 of a-z, 0-9 and '_', starting with a letter");
    } else if (!names.insert(f.name).second) {
      err("name", "duplicate", "another field has this name");
    }
    const auto type_name = str("type");
    auto type = type_name ? ParseFieldType(*type_name) : std::nullopt;
    if (!type) {
      err("type", type_name ? "invalid" : "required",
          "one of text, long_text, markdown, number, integer, money, boolean, date, datetime, enum, url, email, "
          "phone, media, list, reference");
    } else {
      f.type = *type;
    }
    f.label = str("label").value_or("");
    for (auto& e : TextErrors(f.label, at + ".label", kMaxNameChars, false, false)) errors.push_back(std::move(e));
    f.required = boolean("required");
    f.unique = boolean("unique");
    f.min = number("min");
    f.max = number("max");
    f.pattern = str("pattern").value_or("");
    f.collection = str("collection").value_or("");
    if (auto it = item.find("options"); it != item.end() && !it->is_null()) {
      if (!it->is_array() || it->empty() || it->size() > kMaxEnumOptions) {
        err("options", "invalid", "an array of 1.." + std::to_string(kMaxEnumOptions) + " strings");
      } else {
        std::set<std::string> seen;
        for (const auto& o : *it) {
          if (!o.is_string() || o.get<std::string>().empty() ||
              !TextErrors(o.get<std::string>(), "", 200, false, true).empty() || !seen.insert(o).second) {
            err("options", "invalid", "distinct non-empty one-line strings of at most 200 characters");
            break;
          }
          f.options.push_back(o);
        }
      }
    }
    if (!type) {
      out.push_back(std::move(f));
      continue;
    }
    if (f.type == FieldType::kEnum && f.options.empty() && !item.contains("options")) {
      err("options", "required", "an enum field lists its options");
    }
    if (f.type != FieldType::kEnum && item.contains("options")) err("options", "not_allowed", "only for enum fields");
    if (f.type != FieldType::kReference && !f.collection.empty()) {
      err("collection", "not_allowed", "only for reference fields");
    }
    if (!f.collection.empty() && !validate::IsValidSlug(f.collection))
      err("collection", "invalid", "a collection slug");
    if (!f.pattern.empty()) {
      if (!TakesPattern(f.type)) {
        err("pattern", "not_allowed", "only for text, phone, url and email fields");
      } else if (f.pattern.size() > kMaxPatternBytes) {
        err("pattern", "too_long", "at most " + std::to_string(kMaxPatternBytes) + " bytes");
      } else {
        try {
          std::regex compiled(f.pattern, std::regex::ECMAScript);
          if (HasNestedQuantifier(f.pattern)) {
            err("pattern", "too_complex", "no quantified group holding a quantifier, no back-references");
          }
        } catch (const std::regex_error&) {
          err("pattern", "invalid", "not a valid regular expression");
        }
      }
    }
    if ((f.min || f.max) && !TakesBounds(f.type)) {
      err(f.min ? "min" : "max", "not_allowed", "only for text, number, integer, money and list fields");
    }
    if (f.min && f.max && *f.min > *f.max) err("min", "invalid", "greater than max");
    if (f.unique && !TakesUnique(f.type)) err("unique", "not_allowed", "not for this type of field");
    if (f.name == "slug") {
      if (f.type != FieldType::kText) err("type", "invalid", "a field named slug is of type text");
      f.unique = true;  // an entry is found by its slug
    }
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<FieldError> ValidateCollectionSlug(std::string_view slug) {
  if (!validate::IsValidSlug(slug)) return {{"slug", "invalid", "^[a-z0-9]+(-[a-z0-9]+)*$, at most 64 characters"}};
  bool digits = true;
  for (char c : slug) digits = digits && c >= '0' && c <= '9';
  if (digits) return {{"slug", "invalid", "must not be only digits"}};
  return {};
}

std::vector<FieldError> ValidateCollectionName(std::string_view name) {
  return TextErrors(name, "name", kMaxNameChars, false, true);
}

std::vector<FieldError> ValidateCollectionDescription(std::string_view description) {
  return TextErrors(description, "description", kMaxDescriptionChars, true, false);
}

std::optional<Preset> FindPreset(std::string_view name) {
  if (name == "formations") {
    Preset p{"formations", "Formations", "Courses: dates, price, seats, place and status.", {}};
    auto title = Field("title", FieldType::kText, "Titre", true);
    title.max = 200;
    auto number = Field("number", FieldType::kText, "Numéro");
    number.max = 50;
    auto price = Field("price", FieldType::kMoney, "Prix");
    price.min = 0;
    auto seats = Field("available_seats", FieldType::kInteger, "Places disponibles");
    seats.min = 0;
    auto status = Field("status", FieldType::kEnum, "Statut", true);
    status.options = {"active", "full", "cancelled", "finished"};
    auto order = Field("display_order", FieldType::kInteger, "Ordre d'affichage");
    order.min = 0;
    p.fields = {title,
                number,
                Field("description", FieldType::kMarkdown, "Description"),
                Field("start_date", FieldType::kDate, "Date de début"),
                Field("end_date", FieldType::kDate, "Date de fin"),
                Field("registration_deadline", FieldType::kDate, "Délai d'inscription"),
                price,
                seats,
                Field("location", FieldType::kText, "Lieu"),
                Field("external_link", FieldType::kUrl, "Lien externe"),
                status,
                order};
    return p;
  }
  if (name == "pages") {
    Preset p{"pages", "Pages", "Pages of the site: a title, a slug and a Markdown body.", {}};
    auto title = Field("title", FieldType::kText, "Titre", true);
    title.max = 200;
    auto slug = Field("slug", FieldType::kText, "Slug", true);
    slug.unique = true;
    slug.max = 64;  // the values of a field named slug are checked as slugs
    p.fields = {title, slug, Field("body", FieldType::kMarkdown, "Contenu")};
    return p;
  }
  return std::nullopt;
}

}  // namespace poste::content
