#include "modules/seo/seo_types.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "lib/validate/slug.hpp"
#include "lib/validate/text.hpp"
#include "modules/sites/sites_types.hpp"

namespace poste::seo {

namespace {

constexpr std::array<std::string_view, 13> kOgTypes = {"website",     "article",        "profile",
                                                       "book",        "product",        "music.song",
                                                       "music.album", "music.playlist", "music.radio_station",
                                                       "video.movie", "video.episode",  "video.tv_show",
                                                       "video.other"};

// Robots directives (Google's and the common set); the ones taking a value end with ':'.
constexpr std::array<std::string_view, 13> kRobotsWords = {"all",
                                                           "index",
                                                           "noindex",
                                                           "follow",
                                                           "nofollow",
                                                           "none",
                                                           "noarchive",
                                                           "nosnippet",
                                                           "noimageindex",
                                                           "notranslate",
                                                           "max-snippet:",
                                                           "max-image-preview:",
                                                           "max-video-preview:"};

FieldError Error(std::string field, std::string code, std::string message) {
  return {std::move(field), std::move(code), std::move(message)};
}

// Reads one string field of an object: absent or null = "", another type is a field error.
std::string StringField(const nlohmann::json& json, const char* name, const std::string& path,
                        std::vector<FieldError>& errors) {
  auto it = json.find(name);
  if (it == json.end() || it->is_null()) return "";
  if (!it->is_string()) {
    errors.push_back(Error(path, "invalid_type", "must be a string"));
    return "";
  }
  return it->get<std::string>();
}

// One-line text: valid UTF-8, no control characters, at most max code points.
void CheckLine(std::string_view value, std::size_t max, const std::string& field, std::vector<FieldError>& errors) {
  if (!validate::IsValidUtf8(value)) {
    errors.push_back(Error(field, "invalid_utf8", "must be valid UTF-8"));
  } else if (validate::HasControlChars(value, false)) {
    errors.push_back(Error(field, "control_chars", "must not contain control characters or line breaks"));
  } else if (validate::Utf8Length(value) > max) {
    errors.push_back(Error(field, "too_long", "at most " + std::to_string(max) + " characters"));
  }
}

void CheckAbsoluteUrl(std::string_view url, const std::string& field, std::vector<FieldError>& errors) {
  if (url.empty()) return;
  auto found = sites::ValidateUrl(url, field);
  errors.insert(errors.end(), found.begin(), found.end());
}

// An image: an absolute http(s) URL, or a path on the site itself ("/media/1/logo.png").
void CheckImage(std::string_view url, const std::string& field, std::vector<FieldError>& errors) {
  if (url.empty()) return;
  if (url.starts_with('/') && !url.starts_with("//")) {
    if (url.size() > kMaxUrlBytes) {
      errors.push_back(Error(field, "too_long", "at most 2048 characters"));
    } else if (!validate::IsValidUtf8(url) || validate::HasControlChars(url, false) ||
               url.find_first_of(" \"<>\\") != std::string_view::npos) {
      errors.push_back(Error(field, "invalid_format", "a path such as /media/1/photo.jpg or an https:// address"));
    }
    return;
  }
  CheckAbsoluteUrl(url, field, errors);
}

void CheckRobots(std::string_view robots, std::vector<FieldError>& errors) {
  if (robots.empty()) return;
  const std::string field = "robots";
  if (robots.size() > kMaxRobotsChars) return errors.push_back(Error(field, "too_long", "at most 200 characters"));
  bool index = false, noindex = false, follow = false, nofollow = false;
  std::size_t start = 0;
  while (start <= robots.size()) {
    auto comma = std::min(robots.find(',', start), robots.size());
    auto word = robots.substr(start, comma - start);
    start = comma + 1;
    while (!word.empty() && word.front() == ' ') word.remove_prefix(1);
    while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
    bool known = false;
    for (auto w : kRobotsWords) {
      if (w.ends_with(':') ? word.starts_with(w) && word.size() > w.size() : word == w) known = true;
    }
    if (known && word.find(':') != std::string_view::npos) {
      auto value = word.substr(word.find(':') + 1);
      known = word.starts_with("max-image-preview:")
                  ? (value == "none" || value == "standard" || value == "large")
                  : value.find_first_not_of("-0123456789") == std::string_view::npos && value.size() <= 10;
    }
    if (!known) {
      return errors.push_back(
          Error(field, "invalid_value", "comma-separated robots directives such as \"noindex, follow\""));
    }
    index |= word == "index" || word == "all";
    noindex |= word == "noindex" || word == "none";
    follow |= word == "follow" || word == "all";
    nofollow |= word == "nofollow" || word == "none";
  }
  if ((index && noindex) || (follow && nofollow)) {
    errors.push_back(
        Error(field, "conflict", "contradictory directives (index with noindex, or follow with nofollow)"));
  }
}

int Depth(const nlohmann::json& value) {
  if (!value.is_structured()) return 0;
  int deepest = 0;
  for (const auto& child : value) deepest = std::max(deepest, Depth(child));
  return deepest + 1;
}

std::string CheckJsonLd(const nlohmann::json& value, std::vector<FieldError>& errors) {
  const std::string field = "json_ld";
  if (value.is_null()) return "";
  bool ok = value.is_object() && !value.empty();
  if (value.is_array()) {
    ok = !value.empty() && std::all_of(value.begin(), value.end(), [](const auto& v) { return v.is_object(); });
  }
  if (!ok) {
    errors.push_back(Error(field, "invalid_type", "must be a JSON-LD object or a non-empty array of objects"));
    return "";
  }
  if (Depth(value) > kMaxJsonLdDepth) {
    errors.push_back(Error(field, "too_deep", "at most 16 levels of nesting"));
    return "";
  }
  std::string text;
  try {
    text = JsonLdText(value);
  } catch (const nlohmann::json::exception&) {  // strings that are not UTF-8
    errors.push_back(Error(field, "invalid_utf8", "strings must be valid UTF-8"));
    return "";
  }
  if (text.size() > kMaxJsonLdBytes) {
    errors.push_back(Error(field, "too_long", "at most 16384 bytes once serialised"));
    return "";
  }
  return text;
}

void LengthWarning(std::string_view value, std::size_t max, const std::string& field,
                   std::vector<FieldError>& warnings) {
  const auto n = validate::Utf8Length(value);
  if (n > max) {
    warnings.push_back(
        Error(field, "too_long", std::to_string(n) + " characters: search engines show about " + std::to_string(max)));
  }
}

nlohmann::json OrNull(const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json(s); }

}  // namespace

std::string PageKey::ToString() const {
  switch (kind) {
    case PageKind::kHome:
      return "home";
    case PageKind::kAbout:
      return "about";
    case PageKind::kContact:
      return "contact";
    case PageKind::kCollection:
      return "collection:" + collection;
    case PageKind::kEntry:
      return "entry:" + collection + "/" + std::to_string(entry_id);
  }
  return "";
}

AppError BadPageKey() {
  return AppError::BadRequest(
      "Unknown page. Use home, about, contact, collection:<slug> or entry:<collection>/<id> (the '/' as %2F).",
      {{"page", "invalid_value", "not a page key"}});
}

std::optional<PageKey> ParsePageKey(std::string_view key) {
  if (key == "home") return PageKey{PageKind::kHome, "", 0};
  if (key == "about") return PageKey{PageKind::kAbout, "", 0};
  if (key == "contact") return PageKey{PageKind::kContact, "", 0};
  if (key.starts_with("collection:")) {
    auto slug = key.substr(11);
    if (!validate::IsValidSlug(slug)) return std::nullopt;
    return PageKey{PageKind::kCollection, std::string(slug), 0};
  }
  if (key.starts_with("entry:")) {
    auto rest = key.substr(6);
    auto slash = rest.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto slug = rest.substr(0, slash);
    auto id_text = rest.substr(slash + 1);
    if (!validate::IsValidSlug(slug) || id_text.empty() || id_text.size() > 18 || id_text.front() == '0') {
      return std::nullopt;
    }
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || end != id_text.data() + id_text.size() || id <= 0) return std::nullopt;
    return PageKey{PageKind::kEntry, std::string(slug), id};
  }
  return std::nullopt;
}

nlohmann::json ToJson(const PageSeo& p) {
  return {{"page", p.page},
          {"title", p.title},
          {"description", p.description},
          {"keywords", p.keywords},
          {"canonical_url", p.canonical_url},
          {"robots", p.robots},
          {"open_graph",
           {{"title", p.og.title}, {"description", p.og.description}, {"image", p.og.image}, {"type", p.og.type}}},
          {"twitter",
           {{"card", p.twitter.card},
            {"title", p.twitter.title},
            {"description", p.twitter.description},
            {"image", p.twitter.image}}},
          {"json_ld", p.json_ld.empty() ? nlohmann::json() : nlohmann::json::parse(p.json_ld)},
          {"created_at", p.created_at},
          {"updated_at", p.updated_at}};
}

nlohmann::json ToJson(const SeoDefaults& d) {
  return {{"title_template", d.title_template},
          {"description", d.description},
          {"og_image", d.og_image},
          {"twitter_handle", d.twitter_handle},
          {"updated_at", d.updated_at}};
}

nlohmann::json ToJson(const ResolvedSeo& s) {
  return {{"page", s.page},
          {"title", s.title},
          {"description", s.description},
          {"keywords", s.keywords},
          {"canonical_url", OrNull(s.canonical_url)},
          {"robots", s.robots},
          {"open_graph",
           {{"title", s.og.title},
            {"description", s.og.description},
            {"image", OrNull(s.og.image)},
            {"type", s.og.type},
            {"site_name", s.og_site_name},
            {"locale", s.og_locale}}},
          {"twitter",
           {{"card", s.twitter.card},
            {"title", s.twitter.title},
            {"description", s.twitter.description},
            {"image", OrNull(s.twitter.image)},
            {"site", OrNull(s.twitter_site)}}},
          {"json_ld", s.json_ld.empty() ? nlohmann::json() : nlohmann::json::parse(s.json_ld)}};
}

PageSeo PageSeoFromJson(const nlohmann::json& json, std::vector<FieldError>& errors) {
  PageSeo p;
  p.title = StringField(json, "title", "title", errors);
  CheckLine(p.title, kMaxTitleChars, "title", errors);
  p.description = StringField(json, "description", "description", errors);
  CheckLine(p.description, kMaxDescriptionChars, "description", errors);

  if (auto it = json.find("keywords"); it != json.end() && !it->is_null()) {
    if (!it->is_array()) {
      errors.push_back(Error("keywords", "invalid_type", "must be an array of strings"));
    } else if (it->size() > kMaxKeywords) {
      errors.push_back(Error("keywords", "too_many", "at most 50 keywords"));
    } else {
      for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& k = (*it)[i];
        const std::string field = "keywords[" + std::to_string(i) + "]";
        if (!k.is_string()) {
          errors.push_back(Error(field, "invalid_type", "must be a string"));
          continue;
        }
        auto word = k.get<std::string>();
        if (word.empty()) {
          errors.push_back(Error(field, "required", "must not be empty"));
          continue;
        }
        CheckLine(word, kMaxKeywordChars, field, errors);
        if (std::find(p.keywords.begin(), p.keywords.end(), word) == p.keywords.end()) p.keywords.push_back(word);
      }
    }
  }

  p.canonical_url = StringField(json, "canonical_url", "canonical_url", errors);
  CheckAbsoluteUrl(p.canonical_url, "canonical_url", errors);
  p.robots = StringField(json, "robots", "robots", errors);
  CheckRobots(p.robots, errors);

  if (auto it = json.find("open_graph"); it != json.end() && !it->is_null()) {
    if (!it->is_object()) {
      errors.push_back(Error("open_graph", "invalid_type", "must be an object"));
    } else {
      p.og.title = StringField(*it, "title", "open_graph.title", errors);
      CheckLine(p.og.title, kMaxTitleChars, "open_graph.title", errors);
      p.og.description = StringField(*it, "description", "open_graph.description", errors);
      CheckLine(p.og.description, kMaxDescriptionChars, "open_graph.description", errors);
      p.og.image = StringField(*it, "image", "open_graph.image", errors);
      CheckImage(p.og.image, "open_graph.image", errors);
      p.og.type = StringField(*it, "type", "open_graph.type", errors);
      if (!p.og.type.empty() && std::find(kOgTypes.begin(), kOgTypes.end(), p.og.type) == kOgTypes.end()) {
        errors.push_back(Error("open_graph.type", "invalid_value", "an Open Graph type such as website or article"));
      }
    }
  }
  if (auto it = json.find("twitter"); it != json.end() && !it->is_null()) {
    if (!it->is_object()) {
      errors.push_back(Error("twitter", "invalid_type", "must be an object"));
    } else {
      p.twitter.card = StringField(*it, "card", "twitter.card", errors);
      if (!p.twitter.card.empty() && p.twitter.card != "summary" && p.twitter.card != "summary_large_image") {
        errors.push_back(Error("twitter.card", "invalid_value", "summary or summary_large_image"));
      }
      p.twitter.title = StringField(*it, "title", "twitter.title", errors);
      CheckLine(p.twitter.title, kMaxTitleChars, "twitter.title", errors);
      p.twitter.description = StringField(*it, "description", "twitter.description", errors);
      CheckLine(p.twitter.description, kMaxDescriptionChars, "twitter.description", errors);
      p.twitter.image = StringField(*it, "image", "twitter.image", errors);
      CheckImage(p.twitter.image, "twitter.image", errors);
    }
  }
  if (auto it = json.find("json_ld"); it != json.end()) p.json_ld = CheckJsonLd(*it, errors);
  return p;
}

SeoDefaults DefaultsFromJson(const nlohmann::json& json, std::vector<FieldError>& errors) {
  SeoDefaults d;
  d.title_template = StringField(json, "title_template", "title_template", errors);
  CheckLine(d.title_template, kMaxTemplateChars, "title_template", errors);
  if (!d.title_template.empty()) {
    const auto first = d.title_template.find("%s");
    if (first == std::string::npos || d.title_template.find("%s", first + 2) != std::string::npos) {
      errors.push_back(Error("title_template", "invalid_format", "must hold %s exactly once, e.g. \"%s | My site\""));
    }
  }
  d.description = StringField(json, "description", "description", errors);
  CheckLine(d.description, kMaxDescriptionChars, "description", errors);
  d.og_image = StringField(json, "og_image", "og_image", errors);
  CheckImage(d.og_image, "og_image", errors);
  d.twitter_handle = StringField(json, "twitter_handle", "twitter_handle", errors);
  if (!d.twitter_handle.empty()) {
    std::string_view name = d.twitter_handle;
    if (name.starts_with('@')) name.remove_prefix(1);
    const bool ok = !name.empty() && name.size() <= 15 && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    });
    if (!ok) {
      errors.push_back(Error("twitter_handle", "invalid_format", "a handle such as @poste (letters, digits, _)"));
    } else {
      d.twitter_handle = "@" + std::string(name);
    }
  }
  return d;
}

std::vector<FieldError> Warnings(const PageSeo& p) {
  std::vector<FieldError> w;
  LengthWarning(p.title, kRecommendedTitleChars, "title", w);
  LengthWarning(p.description, kRecommendedDescriptionChars, "description", w);
  LengthWarning(p.og.title, kRecommendedTitleChars, "open_graph.title", w);
  LengthWarning(p.og.description, kRecommendedDescriptionChars, "open_graph.description", w);
  LengthWarning(p.twitter.title, kRecommendedTitleChars, "twitter.title", w);
  LengthWarning(p.twitter.description, kRecommendedDescriptionChars, "twitter.description", w);
  return w;
}

std::vector<FieldError> Warnings(const SeoDefaults& d) {
  std::vector<FieldError> w;
  LengthWarning(d.description, kRecommendedDescriptionChars, "description", w);
  return w;
}

nlohmann::json WarningsJson(const std::vector<FieldError>& warnings) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& w : warnings) out.push_back({{"field", w.field}, {"code", w.code}, {"message", w.message}});
  return out;
}

namespace {

std::string EscapeForHtml(const std::string& raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    // Only strings can hold these characters in JSON text, and \u escapes are valid in strings.
    switch (c) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string JsonLdText(const nlohmann::json& value) {
  return EscapeForHtml(value.dump());  // throws on invalid UTF-8
}

std::string DumpHtmlSafe(const nlohmann::json& value, int indent) {
  return EscapeForHtml(value.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string Excerpt(std::string_view text, std::size_t max_chars) {
  std::string collapsed;
  bool space = false;
  for (char c : text) {
    const bool is_space = c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == '\v';
    if (is_space) {
      space = !collapsed.empty();
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
    if (space) collapsed += ' ';
    space = false;
    collapsed += c;
  }
  if (validate::Utf8Length(collapsed) <= max_chars) return collapsed;
  // Cut at a code point boundary within max_chars - 1, then back to the last space.
  std::size_t points = 0, cut = 0;
  for (std::size_t i = 0; i < collapsed.size(); ++i) {
    if ((static_cast<unsigned char>(collapsed[i]) & 0xC0) == 0x80) continue;
    if (points == max_chars - 1) {
      cut = i;
      break;
    }
    ++points;
  }
  std::string_view head(collapsed.data(), cut);
  if (auto space_at = head.rfind(' '); space_at != std::string_view::npos && space_at > cut / 2) {
    head = head.substr(0, space_at);
  }
  while (!head.empty() && (head.back() == ' ' || head.back() == ',' || head.back() == '.')) head.remove_suffix(1);
  return std::string(head) + "\xE2\x80\xA6";  // U+2026 …
}

std::string ApplyTemplate(std::string_view title_template, std::string_view title) {
  const auto at = title_template.find("%s");
  if (at == std::string_view::npos) return std::string(title);
  std::string out(title_template.substr(0, at));
  out += title;
  out += title_template.substr(at + 2);
  return out;
}

}  // namespace poste::seo
