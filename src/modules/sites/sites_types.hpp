#pragma once
// The sites module's structs, their JSON mapping and their validation. Storage is in sites_store.hpp.
#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::sites {

inline constexpr std::size_t kMaxSlugBytes = 64;
inline constexpr std::size_t kMaxNameChars = 200;          // code points
inline constexpr std::size_t kMaxDescriptionChars = 2000;  // code points
inline constexpr std::size_t kMaxDomains = 50;
inline constexpr std::size_t kMaxUrlBytes = 2048;
inline constexpr std::size_t kMaxCustomLinks = 20;
inline constexpr std::array<std::string_view, 5> kLocales = {"fr", "en", "es", "de", "it"};

struct Contact {
  std::string email;  // "" = none
  std::string phone;
  std::string address;  // may span lines
};

struct CustomLink {
  std::string label;
  std::string url;
};

// Links to the site's social profiles; "" = none. Stored as one JSON document.
struct Social {
  std::string facebook, instagram, linkedin, x, youtube, tiktok;
  std::vector<CustomLink> custom;
};

struct Site {
  std::int64_t id = 0;
  std::string slug;
  std::string name;
  std::string description;
  std::string locale = "fr";
  std::string timezone = "Europe/Paris";
  std::optional<std::int64_t> logo_media_id;
  Contact contact;
  Social social;
  std::vector<std::string> domains;  // normalised, ascending
  std::int64_t created_at = 0;       // epoch ms
  std::int64_t updated_at = 0;
};

struct NewSite {
  std::string slug;
  std::string name;
  std::string description;
  std::string locale = "fr";
  std::string timezone = "Europe/Paris";
  std::optional<std::int64_t> logo_media_id;
  Contact contact;
  Social social;
  std::vector<std::string> domains;  // normalised by the store (NormalizeDomain)
};

// Absent = unchanged. logo_media_id: absent = unchanged, a nullopt inside = remove the logo.
// domains replaces the whole set.
struct SitePatch {
  std::optional<std::string> slug;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> locale;
  std::optional<std::string> timezone;
  std::optional<std::optional<std::int64_t>> logo_media_id;
  std::optional<std::string> contact_email;
  std::optional<std::string> contact_phone;
  std::optional<std::string> contact_address;
  std::optional<Social> social;
  std::optional<std::vector<std::string>> domains;
};

// A technical setting of a site. When secret, value is the sealed ciphertext and never leaves the server.
struct Setting {
  std::string key;
  std::string value;
  bool secret = false;
  std::int64_t updated_at = 0;
};

// {id, slug, name, description, locale, timezone, logo_media_id|null, contact{email, phone, address},
//  social{facebook, instagram, linkedin, x, youtube, tiktok, custom[{label, url}]}, domains[], created_at,
//  updated_at}.
nlohmann::json ToJson(const Site& site);
nlohmann::json ToJson(const Social& social);
// {key, secret, value} for a plain setting; {key, secret: true, set: bool} for a secret one (never its value).
nlohmann::json ToJson(const Setting& setting);

// The social document as stored and as accepted in a request body. Unknown keys are ignored; a field of the
// wrong type or an unknown network is a field error under "social..." in `errors` (what was valid is kept).
Social SocialFromJson(const nlohmann::json& json, std::vector<FieldError>& errors);

// Lower-cases ASCII letters, removes surrounding whitespace and one trailing dot: "Example.COM." ->
// "example.com". The form stored and looked up.
std::string NormalizeDomain(std::string_view domain);
// True when every character is an ASCII digit (and there is at least one): {site} in a path is then an id.
bool IsAllDigits(std::string_view text);

// Field validation; each returns the errors of its field (empty when valid).
// ^[a-z0-9]+(-[a-z0-9]+)*$, at most 64, and not only digits (an all-digit {site} is read as an id).
std::vector<FieldError> ValidateSlug(std::string_view slug, std::string_view field = "slug");
// 1..200 code points, not only spaces, no control characters.
std::vector<FieldError> ValidateName(std::string_view name, std::string_view field = "name");
// A host name once normalised: dot-separated labels of 1..63 [a-z0-9-] not starting or ending with '-', at
// most 253 in all, the last label not all digits (no IP addresses). Punycode for international names.
std::vector<FieldError> ValidateDomain(std::string_view domain, std::string_view field = "domains");
// Each domain, at most kMaxDomains, no duplicates once normalised.
std::vector<FieldError> ValidateDomains(const std::vector<std::string>& domains, std::string_view field = "domains");
std::vector<FieldError> ValidateLocale(std::string_view locale, std::string_view field = "locale");
// An IANA-like zone name: 1..64 of [A-Za-z0-9_/+-].
std::vector<FieldError> ValidateTimezone(std::string_view timezone, std::string_view field = "timezone");
// An absolute http:// or https:// URL with a host, at most 2048 bytes, no spaces or control characters.
std::vector<FieldError> ValidateUrl(std::string_view url, std::string_view field);
std::vector<FieldError> ValidateSocial(const Social& social, std::string_view field = "social");
// Setting keys: 1..100 of [a-z0-9_.-]; values at most 64 KiB.
std::vector<FieldError> ValidateSettingKey(std::string_view key, std::string_view field = "key");
std::vector<FieldError> ValidateSettingValue(std::string_view value, std::string_view field = "value");

// Every field of a new site / of the fields a patch sets.
std::vector<FieldError> Validate(const NewSite& site);
std::vector<FieldError> Validate(const SitePatch& patch);

}  // namespace poste::sites
