#include "modules/media/media_files.hpp"

#include <magic.h>
#include <spdlog/spdlog.h>
#include <vips/vips8>

#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

namespace poste::media::files {

namespace {

void InitVips() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (VIPS_INIT("poste") != 0)
      throw std::runtime_error("libvips failed to start: " + std::string(vips_error_buffer()));
    // Loaders that were never fuzzed (ImageMagick, PDF, ...) must not see user files, even by mistake.
    vips_block_untrusted_set(TRUE);
    // Paths are unique per content; an operation cache would only hold memory and open files.
    vips_cache_set_max(0);
    // libvips warns about every damaged file on stderr, which would break the JSON log lines: log them instead.
    g_log_set_handler(
        "VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO),
        [](const gchar*, GLogLevelFlags, const gchar* message, gpointer) { spdlog::debug("libvips: {}", message); },
        nullptr);
  });
}

// The libvips loader each raster type must go through.
const char* LoaderFor(std::string_view content_type) {
  if (content_type == "image/jpeg") return "VipsForeignLoadJpegFile";
  if (content_type == "image/png") return "VipsForeignLoadPngFile";
  if (content_type == "image/gif") return "VipsForeignLoadNsgifFile";
  if (content_type == "image/webp") return "VipsForeignLoadWebpFile";
  if (content_type == "image/avif") return "VipsForeignLoadHeifFile";
  return nullptr;
}

bool LoaderMatches(const std::string& path, std::string_view content_type) {
  const char* want = LoaderFor(content_type);
  if (!want) return false;
  const char* found = vips_foreign_find_load(path.c_str());
  if (!found) {
    vips_error_clear();
    return false;
  }
  return std::strcmp(found, want) == 0 ||
         // libvips builds without libnsgif load GIFs with giflib.
         (content_type == "image/gif" && std::strcmp(found, "VipsForeignLoadGifFile") == 0);
}

struct MagicCookie {
  MagicCookie() : cookie(magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR)) {
    if (cookie && magic_load(cookie, nullptr) != 0) {
      magic_close(cookie);
      cookie = nullptr;
    }
  }
  ~MagicCookie() {
    if (cookie) magic_close(cookie);
  }
  magic_t cookie;
};

}  // namespace

std::string SniffMime(const std::string& path) {
  // A libmagic handle is not thread-safe: one per thread, loaded once.
  thread_local MagicCookie magic;
  if (!magic.cookie) throw std::runtime_error("libmagic could not load its database");
  const char* type = magic_file(magic.cookie, path.c_str());
  return type ? std::string(type) : std::string();
}

std::optional<ImageSize> ReadImageSize(const std::string& path, std::string_view content_type) {
  InitVips();
  if (!LoaderMatches(path, content_type)) return std::nullopt;
  try {
    auto image =
        vips::VImage::new_from_file(path.c_str(), vips::VImage::option()->set("access", VIPS_ACCESS_SEQUENTIAL));
    ImageSize size{image.width(), image.height()};
    // EXIF orientations 5 to 8 turn the image a quarter: it displays the other way round.
    if (vips_image_get_typeof(image.get_image(), VIPS_META_ORIENTATION)) {
      int orientation = image.get_int(VIPS_META_ORIENTATION);
      if (orientation >= 5 && orientation <= 8) std::swap(size.width, size.height);
    }
    if (size.width <= 0 || size.height <= 0) return std::nullopt;
    return size;
  } catch (const vips::VError&) {
    vips_error_clear();
    return std::nullopt;
  }
}

ImageSize WriteWebp(const std::string& src, std::string_view content_type, int width, const std::string& dst) {
  InitVips();
  if (!LoaderMatches(src, content_type)) throw std::runtime_error("not a readable " + std::string(content_type));
  try {
    auto thumb = vips::VImage::thumbnail(
        src.c_str(), width, vips::VImage::option()->set("height", VIPS_MAX_COORD)->set("size", VIPS_SIZE_DOWN));
    thumb.webpsave(dst.c_str(), vips::VImage::option()->set("Q", 80)->set("strip", true));
    return {thumb.width(), thumb.height()};
  } catch (const vips::VError& e) {
    vips_error_clear();
    throw std::runtime_error(std::string("libvips: ") + e.what());
  }
}

std::string EncodeTestImage(int width, int height, std::string_view suffix) {
  InitVips();
  auto image =
      vips::VImage::black(width, height, vips::VImage::option()->set("bands", 3)) + std::vector<double>{200, 40, 90};
  image = image.cast(VIPS_FORMAT_UCHAR);
  void* buf = nullptr;
  size_t size = 0;
  image.write_to_buffer(std::string(suffix).c_str(), &buf, &size);
  std::string out(static_cast<const char*>(buf), size);
  g_free(buf);
  return out;
}

}  // namespace poste::media::files
