#pragma once
// What the media module asks of file contents: the type libmagic sniffs, and libvips' reading of image sizes
// and writing of responsive WebP sizes. Only the raster types of the allowlist ever reach libvips, each
// through its own loader (checked), with libvips' untrusted loaders (ImageMagick, PDF, ...) blocked.
//
// Every function blocks (file I/O, decoding): call it through co_await blocking(...) or from a job.
#include <optional>
#include <string>
#include <string_view>

namespace poste::media::files {

// libmagic's MIME type of the file ("image/png", "application/pdf", ...); "" when it cannot tell.
std::string SniffMime(const std::string& path);

struct ImageSize {
  int width = 0;
  int height = 0;
};

// The displayed size of a raster image (EXIF rotation applied), read from its header; nullopt when the file
// is not a readable image of that content type.
std::optional<ImageSize> ReadImageSize(const std::string& path, std::string_view content_type);

// Writes `dst` as a WebP `width` pixels wide (never wider than the original; height in proportion) from the
// image at `src`, and returns the size written. Throws std::runtime_error when libvips fails.
ImageSize WriteWebp(const std::string& src, std::string_view content_type, int width, const std::string& dst);

// A solid-colour image of the given size encoded in the format of `suffix` (".png", ".jpg", ".webp", ".gif"):
// for tests and fixtures.
std::string EncodeTestImage(int width, int height, std::string_view suffix);

}  // namespace poste::media::files
