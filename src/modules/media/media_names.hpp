#pragma once
// Names of media files. A client's file name is only metadata: it is sanitised for display and download
// (Content-Disposition), and its extension must agree with the sniffed type; the stored file is always named
// by the server, from the item's id and content hash, with the sniffed type's extension:
//   data/media/{site_id}/{id}-{first 32 hex of sha256}.{ext}        the original
//   data/media/{site_id}/{id}-{first 32 hex of sha256}-{width}.webp  a responsive size
// so a stored name never comes from the client, never repeats for other bytes (immutable caching is safe),
// and never collides with another item's file.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poste::media {

std::string StoredFileName(std::int64_t id, std::string_view sha256_hex, std::string_view ext);
std::string VariantFileName(std::int64_t id, std::string_view sha256_hex, int width);
// "/media/{site_id}/{name}": the public URL of a stored file.
std::string FileUrl(std::int64_t site_id, std::string_view name);

// A stored name taken apart (GET /media/{site_id}/{file}); nullopt for anything else, such as an upload's
// temporary file, a path or a dot name.
struct ServedName {
  std::int64_t id = 0;
  std::string hash;  // the 32 hex digits
  std::optional<int> width;
  std::string ext;
};
std::optional<ServedName> ParseServedName(std::string_view name);

struct CleanName {
  std::string name;                     // "" when nothing usable was left
  std::string ext;                      // the final extension, lower case ASCII; "" when none
  std::vector<std::string> inner_exts;  // the ones before it ("x.php.jpg" -> {"php"}), lower case
};
// The last path component (after '/' or '\'), invalid UTF-8 replaced, NFC-normalised, without control,
// bidirectional-override, zero-width and Windows-reserved characters, leading dots and trailing dots or
// spaces, at most kMaxFilenameBytes bytes (the extension kept).
CleanName SanitizeFilename(std::string_view raw);

// Extensions that servers or desktops execute or render as active content: "x.php.jpg" is refused, since a
// server that maps the inner extension (Apache's mod_mime) would run it if the folder were ever served directly.
bool IsDangerousExtension(std::string_view ext);

}  // namespace poste::media
