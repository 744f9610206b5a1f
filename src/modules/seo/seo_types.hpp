#pragma once
// The SEO module's structs, their JSON mapping and their validation: the metadata of one page of a site, the
// site's defaults, and the resolved metadata a page is served with (every fallback applied).
//
// Page keys: "home", "about", "contact", "collection:<collection slug>" (a collection's listing) and
// "entry:<collection slug>/<entry id>" (one entry). In a URL path the '/' of an entry key is sent as %2F
// (e.g. /seo/entry:formations%2F12).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::seo {

// Above these a field is refused (422); the recommended lengths below only give warnings.
inline constexpr std::size_t kMaxTitleChars = 300;
inline constexpr std::size_t kMaxDescriptionChars = 1000;
inline constexpr std::size_t kMaxKeywords = 50;
inline constexpr std::size_t kMaxKeywordChars = 100;
inline constexpr std::size_t kMaxUrlBytes = 2048;
inline constexpr std::size_t kMaxRobotsChars = 200;
inline constexpr std::size_t kMaxJsonLdBytes = 16 * 1024;  // serialised
inline constexpr int kMaxJsonLdDepth = 16;
inline constexpr std::size_t kMaxTemplateChars = 200;
// What search engines show; longer titles and descriptions are cut in results.
inline constexpr std::size_t kRecommendedTitleChars = 60;
inline constexpr std::size_t kRecommendedDescriptionChars = 160;

enum class PageKind { kHome, kAbout, kContact, kCollection, kEntry };

struct PageKey {
  PageKind kind = PageKind::kHome;
  std::string collection;     // kCollection, kEntry
  std::int64_t entry_id = 0;  // kEntry

  std::string ToString() const;  // the canonical key
};

// nullopt for anything but the forms above (collection slugs: ^[a-z0-9]+(-[a-z0-9]+)*$, at most 64; entry ids
// positive, without leading zeros).
std::optional<PageKey> ParsePageKey(std::string_view key);
// The 400 answered for a key ParsePageKey refuses.
AppError BadPageKey();

struct OpenGraph {
  std::string title, description, image, type;
};

struct TwitterCard {
  std::string card;  // "", "summary" or "summary_large_image"
  std::string title, description, image;
};

// A page's own metadata, as an editor saved it; "" = not set (a fallback applies).
struct PageSeo {
  std::string page;  // the canonical page key
  std::string title;
  std::string description;
  std::vector<std::string> keywords;
  std::string canonical_url;
  std::string robots;  // e.g. "noindex, follow"
  OpenGraph og;
  TwitterCard twitter;
  std::string json_ld;  // "" = none; else a JSON object or array of objects, compact, '<' '>' '&' escaped
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// The site's defaults; "" = not set.
struct SeoDefaults {
  std::string title_template;  // "%s | My site": the page title is put in place of %s
  std::string description;
  std::string og_image;
  std::string twitter_handle;  // "@name"
  std::int64_t updated_at = 0;
};

// What a page is served with: every fallback applied, so title and description are never empty.
struct ResolvedSeo {
  std::string page;
  std::string title;
  std::string description;
  std::vector<std::string> keywords;
  std::string canonical_url;
  std::string robots;
  OpenGraph og;
  std::string og_site_name;
  std::string og_locale;
  TwitterCard twitter;
  std::string twitter_site;
  std::string json_ld;  // "" = none
};

// {page, title, description, keywords[], canonical_url, robots, open_graph{title, description, image, type},
//  twitter{card, title, description, image}, json_ld|null, created_at, updated_at}.
nlohmann::json ToJson(const PageSeo& page);
// {title_template, description, og_image, twitter_handle, updated_at}.
nlohmann::json ToJson(const SeoDefaults& defaults);
// {page, title, description, keywords[], canonical_url|null, robots, open_graph{title, description, image|null,
//  type, site_name, locale}, twitter{card, title, description, image|null, site|null}, json_ld|null}.
nlohmann::json ToJson(const ResolvedSeo& seo);

// The body of PUT .../seo/{page}: the fields of ToJson(PageSeo) (page and times ignored); a field left out is
// empty. Type errors and hard limits are field errors (422, in `errors`); JSON-LD must be an object or an
// array of objects, at most kMaxJsonLdBytes serialised and kMaxJsonLdDepth deep.
PageSeo PageSeoFromJson(const nlohmann::json& json, std::vector<FieldError>& errors);
// The body of PUT .../seo-defaults.
SeoDefaults DefaultsFromJson(const nlohmann::json& json, std::vector<FieldError>& errors);

// Lengths past the recommendations (title 60, description 160, their Open Graph and Twitter twins): saved
// anyway, reported as warnings {field, code: "too_long", message}.
std::vector<FieldError> Warnings(const PageSeo& page);
std::vector<FieldError> Warnings(const SeoDefaults& defaults);
nlohmann::json WarningsJson(const std::vector<FieldError>& warnings);

// The compact text of a JSON-LD value with '<', '>' and '&' written as \u escapes, so that it can be pasted
// into a <script type="application/ld+json"> element as is: no "</script>" can close it early.
std::string JsonLdText(const nlohmann::json& value);
// JSON text with '<', '>' and '&' escaped the same way (invalid UTF-8 replaced): what SEO answers and seo.json are
// written as, so that a page that pastes them into HTML as they are stays safe.
std::string DumpHtmlSafe(const nlohmann::json& value, int indent = -1);

// Up to `max_chars` code points of `text` with whitespace runs collapsed to one space, cut at a word boundary
// when it is longer (with an ellipsis): a description made from an entry's text.
std::string Excerpt(std::string_view text, std::size_t max_chars);

// The title after the site's template ("%s | Site"): "" template or no %s -> the title unchanged.
std::string ApplyTemplate(std::string_view title_template, std::string_view title);

}  // namespace poste::seo
