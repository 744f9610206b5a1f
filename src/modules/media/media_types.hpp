#pragma once
// The media module's structs, the allowlist of file types, and their JSON mapping. Storage is in
// media_store.hpp; names and paths in media_names.hpp.
#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poste::media {

inline constexpr std::uint64_t kDefaultMaxUploadBytes = 100ull * 1024 * 1024;
// The responsive sizes made for raster images (never wider than the original).
inline constexpr std::array<int, 3> kVariantWidths = {320, 768, 1280};
// Images with more pixels are refused: decoding them would take the server's memory and time (decompression bombs).
inline constexpr std::int64_t kMaxImagePixels = 100'000'000;
inline constexpr std::size_t kMaxAltChars = 1000;      // code points
inline constexpr std::size_t kMaxCaptionChars = 2000;  // code points
inline constexpr std::size_t kMaxFilenameBytes = 255;
inline constexpr int kMaxListLimit = 200;

// "image" | "document" | "audio" | "video".
inline constexpr std::array<std::string_view, 4> kFamilies = {"image", "document", "audio", "video"};

// One allowed type: what libmagic reports (any of `sniffed`), what is served, and the extensions a client's
// file name may carry for it (the first is the stored file's).
struct MediaType {
  std::string_view content_type;          // served Content-Type
  std::string_view family;                // one of kFamilies
  std::vector<std::string_view> sniffed;  // libmagic MIME types that mean this type
  std::vector<std::string_view> extensions;
  bool raster = false;       // an image libvips makes responsive sizes of
  bool scan_markup = false;  // no markup may hide in it (polyglots): raster images, audio, video
};

const std::vector<MediaType>& AllowedTypes();
// The allowed type libmagic's MIME type stands for; nullptr when not allowed.
const MediaType* TypeForSniffed(std::string_view sniffed_mime);
// The allowed type whose Content-Type this is; nullptr when none.
const MediaType* TypeForContentType(std::string_view content_type);

struct Variant {
  int width = 0;
  int height = 0;
  std::int64_t size_bytes = 0;
};

struct Use {
  std::string owner_type;
  std::int64_t owner_id = 0;
};

struct MediaItem {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::string sha256;  // hex
  std::string ext;
  std::string content_type;
  std::string family;
  std::int64_t size_bytes = 0;
  std::string filename;  // the client's name, sanitised
  std::optional<int> width, height;
  std::string alt;
  std::string caption;
  std::optional<std::int64_t> created_by;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::vector<Variant> variants;  // by width; filled by Get and List
};

struct MediaPatch {
  std::optional<std::string> alt;
  std::optional<std::string> caption;
};

struct ListFilter {
  std::optional<std::string> family;    // one of kFamilies
  std::optional<std::string> q;         // in filename or alt, case-insensitive
  std::optional<std::int64_t> from_ms;  // created_at >= from_ms
  std::optional<std::int64_t> to_ms;    // created_at < to_ms
  int limit = 50;
  std::optional<std::int64_t> cursor;  // next_cursor of the previous page: items with a smaller id
};

struct MediaPage {
  std::vector<MediaItem> items;  // newest (highest id) first
  std::optional<std::int64_t> next_cursor;
};

// {id, site_id, url, filename, content_type, family, size, sha256, width, height, alt, caption, created_by,
//  created_at, updated_at, variants: [{width, height, size, url}]}.
nlohmann::json ToJson(const MediaItem& item);
nlohmann::json ToJson(const Use& use);

}  // namespace poste::media
