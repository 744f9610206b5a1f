#include "modules/sites/sites_types.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "lib/validate/ascii.hpp"

namespace poste::sites {
namespace {

constexpr std::size_t kMaxPhoneChars = 50;
constexpr std::size_t kMaxAddressChars = 500;
constexpr std::size_t kMaxLabelChars = 100;
constexpr std::size_t kMaxSettingKey = 100;
constexpr std::size_t kMaxSettingValue = std::size_t{64} * 1024;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

FieldError Error(std::string_view field, std::string code, std::string message) {
  return {std::string(field), std::move(code), std::move(message)};
}

void Append(std::vector<FieldError>& to, std::vector<FieldError> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

// Checks free text: valid UTF-8, at most max_chars code points, no control characters but (when multiline)
// CR, LF and tab. required: not empty or only spaces.
std::vector<FieldError> ValidateText(std::string_view text, std::string_view field, std::size_t max_chars,
                                     bool required, bool multiline) {
  if (required && validate::ascii::Trim(text).empty()) return {Error(field, "required", "required")};
  std::size_t chars = 0;
  bool control = false;
  for (std::size_t i = 0; i < text.size(); ++chars) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || i + len > text.size()) return {Error(field, "invalid_utf8", "not valid UTF-8")};
    char32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return {Error(field, "invalid_utf8", "not valid UTF-8")};
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return {Error(field, "invalid_utf8", "not valid UTF-8")};
    }
    const bool allowed = multiline && (cp == '\r' || cp == '\n' || cp == '\t');
    if ((cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) && !allowed) control = true;
    i += len;
  }
  if (chars > max_chars) return {Error(field, "too_long", "at most " + std::to_string(max_chars) + " characters")};
  if (control) return {Error(field, "invalid_format", "no control characters")};
  return {};
}

bool NoSpaceOrControl(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7F;
  });
}

// Dot-separated LDH labels (1..63, no '-' at either end), at least min_labels of them.
bool IsHostName(std::string_view host, std::size_t min_labels) {
  std::size_t labels = 0;
  while (true) {
    const auto dot = host.find('.');
    const std::string_view label = host.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), [](char c) { return IsAlnum(c) || c == '-'; })) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  return labels >= min_labels;
}

// A deliberately small check for the contact address: one '@', local part 1..64, a domain with a dot.
std::vector<FieldError> ValidateContactEmail(std::string_view email, std::string_view field) {
  if (email.empty()) return {};
  const auto at = email.find('@');
  const bool ok = email.size() <= 254 && NoSpaceOrControl(email) && at != std::string_view::npos && at >= 1 &&
                  at <= 64 && email.find('@', at + 1) == std::string_view::npos && IsHostName(email.substr(at + 1), 2);
  if (ok) return {};
  return {Error(field, "invalid_format", "not an email address such as contact@example.com")};
}

std::string StringField(const nlohmann::json& json, const char* key, std::string_view field,
                        std::vector<FieldError>& errors) {
  const auto it = json.find(key);
  if (it == json.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  errors.push_back(Error(std::string(field) + "." + key, "invalid_type", "must be a string"));
  return {};
}

}  // namespace

nlohmann::json ToJson(const Social& social) {
  nlohmann::json custom = nlohmann::json::array();
  for (const auto& link : social.custom) custom.push_back({{"label", link.label}, {"url", link.url}});
  return {
      {"facebook", social.facebook}, {"instagram", social.instagram}, {"linkedin", social.linkedin}, {"x", social.x},
      {"youtube", social.youtube},   {"tiktok", social.tiktok},       {"custom", std::move(custom)}};
}

nlohmann::json ToJson(const Site& site) {
  return {
      {"id", site.id},
      {"slug", site.slug},
      {"name", site.name},
      {"description", site.description},
      {"locale", site.locale},
      {"timezone", site.timezone},
      {"logo_media_id", site.logo_media_id ? nlohmann::json(*site.logo_media_id) : nlohmann::json(nullptr)},
      {"contact", {{"email", site.contact.email}, {"phone", site.contact.phone}, {"address", site.contact.address}}},
      {"social", ToJson(site.social)},
      {"domains", site.domains},
      {"created_at", site.created_at},
      {"updated_at", site.updated_at}};
}

nlohmann::json ToJson(const Setting& setting) {
  if (setting.secret) return {{"key", setting.key}, {"secret", true}, {"set", !setting.value.empty()}};
  return {{"key", setting.key}, {"secret", false}, {"value", setting.value}};
}

Social SocialFromJson(const nlohmann::json& json, std::vector<FieldError>& errors) {
  Social social;
  if (json.is_null()) return social;
  if (!json.is_object()) {
    errors.push_back(Error("social", "invalid_type", "must be an object"));
    return social;
  }
  social.facebook = StringField(json, "facebook", "social", errors);
  social.instagram = StringField(json, "instagram", "social", errors);
  social.linkedin = StringField(json, "linkedin", "social", errors);
  social.x = StringField(json, "x", "social", errors);
  social.youtube = StringField(json, "youtube", "social", errors);
  social.tiktok = StringField(json, "tiktok", "social", errors);
  const auto custom = json.find("custom");
  if (custom == json.end() || custom->is_null()) return social;
  if (!custom->is_array()) {
    errors.push_back(Error("social.custom", "invalid_type", "must be an array"));
    return social;
  }
  for (std::size_t i = 0; i < custom->size(); ++i) {
    const std::string field = "social.custom[" + std::to_string(i) + "]";
    const auto& item = (*custom)[i];
    if (!item.is_object()) {
      errors.push_back(Error(field, "invalid_type", "must be an object {label, url}"));
      continue;
    }
    social.custom.push_back({StringField(item, "label", field, errors), StringField(item, "url", field, errors)});
  }
  return social;
}

std::string NormalizeDomain(std::string_view domain) {
  std::string out = validate::ascii::ToLower(validate::ascii::Trim(domain));
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

bool IsAllDigits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<FieldError> ValidateSlug(std::string_view slug, std::string_view field) {
  if (slug.empty()) return {Error(field, "required", "a slug is required")};
  if (slug.size() > kMaxSlugBytes) return {Error(field, "too_long", "at most 64 characters")};
  bool ok = IsLowerAlnum(slug.front()) && IsLowerAlnum(slug.back());
  for (std::size_t i = 0; ok && i < slug.size(); ++i) {
    ok = IsLowerAlnum(slug[i]) || (slug[i] == '-' && slug[i - 1] != '-');
  }
  if (!ok) return {Error(field, "invalid_format", "lower-case letters and digits, words joined by single hyphens")};
  if (IsAllDigits(slug)) return {Error(field, "invalid_format", "not only digits (that would read as a site id)")};
  return {};
}

std::vector<FieldError> ValidateName(std::string_view name, std::string_view field) {
  return ValidateText(name, field, kMaxNameChars, true, false);
}

std::vector<FieldError> ValidateDomain(std::string_view domain, std::string_view field) {
  const std::string host = NormalizeDomain(domain);
  if (host.empty()) return {Error(field, "required", "a domain name is required")};
  if (host.size() > 253) return {Error(field, "too_long", "at most 253 characters")};
  const std::string_view last = std::string_view(host).substr(host.rfind('.') + 1);
  if (!IsHostName(host, 1) || IsAllDigits(last)) {
    return {Error(field, "invalid_format", "'" + host + "' is not a host name such as www.example.com")};
  }
  return {};
}

std::vector<FieldError> ValidateDomains(const std::vector<std::string>& domains, std::string_view field) {
  if (domains.size() > kMaxDomains) return {Error(field, "too_many", "at most 50 domains")};
  std::vector<FieldError> errors;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < domains.size(); ++i) {
    const std::string at = std::string(field) + "[" + std::to_string(i) + "]";
    auto domain_errors = ValidateDomain(domains[i], at);
    if (domain_errors.empty() && !seen.insert(NormalizeDomain(domains[i])).second) {
      domain_errors.push_back(Error(at, "duplicate", "listed twice"));
    }
    Append(errors, std::move(domain_errors));
  }
  return errors;
}

std::vector<FieldError> ValidateLocale(std::string_view locale, std::string_view field) {
  if (std::find(kLocales.begin(), kLocales.end(), locale) != kLocales.end()) return {};
  return {Error(field, "invalid_value", "one of fr, en, es, de, it")};
}

std::vector<FieldError> ValidateTimezone(std::string_view timezone, std::string_view field) {
  const bool ok = !timezone.empty() && timezone.size() <= 64 &&
                  std::all_of(timezone.begin(), timezone.end(),
                              [](char c) { return IsAlnum(c) || c == '_' || c == '/' || c == '+' || c == '-'; });
  if (ok) return {};
  return {Error(field, "invalid_format", "a time zone name such as Europe/Paris")};
}

std::vector<FieldError> ValidateUrl(std::string_view url, std::string_view field) {
  if (url.size() > kMaxUrlBytes) return {Error(field, "too_long", "at most 2048 characters")};
  std::string_view rest;
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (url.size() >= scheme.size() && std::equal(scheme.begin(), scheme.end(), url.begin(), [](char a, char b) {
          return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
        })) {
      rest = url.substr(scheme.size());
    }
  }
  const std::string_view host = rest.substr(0, rest.find_first_of("/?#:"));
  if (rest.empty() || !NoSpaceOrControl(url) || !IsHostName(host, 1) || host.find('@') != std::string_view::npos) {
    return {Error(field, "invalid_format", "an http:// or https:// address such as https://example.com/page")};
  }
  return {};
}

std::vector<FieldError> ValidateSocial(const Social& social, std::string_view field) {
  std::vector<FieldError> errors;
  const std::string f(field);
  const std::pair<const char*, const std::string*> networks[] = {
      {"facebook", &social.facebook}, {"instagram", &social.instagram},
      {"linkedin", &social.linkedin}, {"x", &social.x},
      {"youtube", &social.youtube},   {"tiktok", &social.tiktok}};
  for (const auto& [name, url] : networks) {
    if (!url->empty()) Append(errors, ValidateUrl(*url, f + "." + name));
  }
  if (social.custom.size() > kMaxCustomLinks) errors.push_back(Error(f + ".custom", "too_many", "at most 20 links"));
  for (std::size_t i = 0; i < social.custom.size() && i < kMaxCustomLinks; ++i) {
    const std::string at = f + ".custom[" + std::to_string(i) + "]";
    Append(errors, ValidateText(social.custom[i].label, at + ".label", kMaxLabelChars, true, false));
    Append(errors, ValidateUrl(social.custom[i].url, at + ".url"));
  }
  return errors;
}

std::vector<FieldError> ValidateSettingKey(std::string_view key, std::string_view field) {
  const bool ok = !key.empty() && key.size() <= kMaxSettingKey && std::all_of(key.begin(), key.end(), [](char c) {
    return IsLowerAlnum(c) || c == '_' || c == '.' || c == '-';
  });
  if (ok) return {};
  return {Error(field, "invalid_format", "1 to 100 of a-z, 0-9, '_', '.', '-'")};
}

std::vector<FieldError> ValidateSettingValue(std::string_view value, std::string_view field) {
  if (value.size() <= kMaxSettingValue) return {};
  return {Error(field, "too_long", "at most 64 KiB")};
}

std::vector<FieldError> Validate(const NewSite& site) {
  std::vector<FieldError> errors;
  Append(errors, ValidateSlug(site.slug));
  Append(errors, ValidateName(site.name));
  Append(errors, ValidateText(site.description, "description", kMaxDescriptionChars, false, true));
  Append(errors, ValidateLocale(site.locale));
  Append(errors, ValidateTimezone(site.timezone));
  if (site.logo_media_id && *site.logo_media_id <= 0) {
    errors.push_back(Error("logo_media_id", "invalid_value", "a media id is a positive integer"));
  }
  Append(errors, ValidateContactEmail(site.contact.email, "contact.email"));
  Append(errors, ValidateText(site.contact.phone, "contact.phone", kMaxPhoneChars, false, false));
  Append(errors, ValidateText(site.contact.address, "contact.address", kMaxAddressChars, false, true));
  Append(errors, ValidateSocial(site.social));
  Append(errors, ValidateDomains(site.domains));
  return errors;
}

std::vector<FieldError> Validate(const SitePatch& patch) {
  std::vector<FieldError> errors;
  if (patch.slug) Append(errors, ValidateSlug(*patch.slug));
  if (patch.name) Append(errors, ValidateName(*patch.name));
  if (patch.description) {
    Append(errors, ValidateText(*patch.description, "description", kMaxDescriptionChars, false, true));
  }
  if (patch.locale) Append(errors, ValidateLocale(*patch.locale));
  if (patch.timezone) Append(errors, ValidateTimezone(*patch.timezone));
  if (patch.logo_media_id && *patch.logo_media_id && **patch.logo_media_id <= 0) {
    errors.push_back(Error("logo_media_id", "invalid_value", "a media id is a positive integer"));
  }
  if (patch.contact_email) Append(errors, ValidateContactEmail(*patch.contact_email, "contact.email"));
  if (patch.contact_phone) {
    Append(errors, ValidateText(*patch.contact_phone, "contact.phone", kMaxPhoneChars, false, false));
  }
  if (patch.contact_address) {
    Append(errors, ValidateText(*patch.contact_address, "contact.address", kMaxAddressChars, false, true));
  }
  if (patch.social) Append(errors, ValidateSocial(*patch.social));
  if (patch.domains) Append(errors, ValidateDomains(*patch.domains));
  return errors;
}

}  // namespace poste::sites
