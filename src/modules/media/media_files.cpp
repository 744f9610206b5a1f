#include "modules/media/media_files.hpp"

#include <magic.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "modules/media/vips_runtime.hpp"

namespace poste::media::files {

namespace {

// A libvips image released when it goes out of scope.
struct ImageDeleter {
  void operator()(VipsImage* image) const { g_object_unref(image); }
};
using Image = std::unique_ptr<VipsImage, ImageDeleter>;

// libvips' last error, cleared for the next call on this thread.
std::string TakeError(const vips_runtime::Api& vips) {
  std::string message = vips.error_buffer();
  vips.error_clear();
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return message;
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

bool LoaderMatches(const vips_runtime::Api& vips, const std::string& path, std::string_view content_type) {
  const char* want = LoaderFor(content_type);
  if (!want) return false;
  const char* found = vips.foreign_find_load(path.c_str());
  if (!found) {
    vips.error_clear();
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
  const auto& vips = vips_runtime::Get();
  if (!LoaderMatches(vips, path, content_type)) return std::nullopt;
  Image image(vips.image_new_from_file(path.c_str(), "access", VIPS_ACCESS_SEQUENTIAL, nullptr));
  if (!image) {
    vips.error_clear();
    return std::nullopt;
  }
  ImageSize size{vips.image_get_width(image.get()), vips.image_get_height(image.get())};
  // EXIF orientations 5 to 8 turn the image a quarter: it displays the other way round.
  int orientation = 0;
  if (vips.image_get_typeof(image.get(), VIPS_META_ORIENTATION) &&
      vips.image_get_int(image.get(), VIPS_META_ORIENTATION, &orientation) == 0 && orientation >= 5 &&
      orientation <= 8) {
    std::swap(size.width, size.height);
  }
  vips.error_clear();
  if (size.width <= 0 || size.height <= 0) return std::nullopt;
  return size;
}

ImageSize WriteWebp(const std::string& src, std::string_view content_type, int width, const std::string& dst) {
  const auto& vips = vips_runtime::Get();
  if (!LoaderMatches(vips, src, content_type)) throw std::runtime_error("not a readable " + std::string(content_type));
  VipsImage* out = nullptr;
  if (vips.thumbnail(src.c_str(), &out, width, "height", VIPS_MAX_COORD, "size", VIPS_SIZE_DOWN, nullptr) != 0) {
    throw std::runtime_error("libvips: " + TakeError(vips));
  }
  Image thumb(out);
  if (vips.webpsave(thumb.get(), dst.c_str(), "Q", 80, "strip", TRUE, nullptr) != 0) {
    throw std::runtime_error("libvips: " + TakeError(vips));
  }
  return {vips.image_get_width(thumb.get()), vips.image_get_height(thumb.get())};
}

std::string EncodeTestImage(int width, int height, std::string_view suffix) {
  const auto& vips = vips_runtime::Get();
  VipsImage* out = nullptr;
  if (vips.black(&out, width, height, "bands", 3, nullptr) != 0) throw std::runtime_error(TakeError(vips));
  Image black(out);
  const double scale[] = {1, 1, 1}, offset[] = {200, 40, 90};
  if (vips.linear(black.get(), &out, scale, offset, 3, nullptr) != 0) throw std::runtime_error(TakeError(vips));
  Image coloured(out);
  if (vips.cast(coloured.get(), &out, VIPS_FORMAT_UCHAR, nullptr) != 0) throw std::runtime_error(TakeError(vips));
  Image image(out);
  void* buf = nullptr;
  size_t size = 0;
  if (vips.image_write_to_buffer(image.get(), std::string(suffix).c_str(), &buf, &size, nullptr) != 0) {
    throw std::runtime_error(TakeError(vips));
  }
  std::string bytes(static_cast<const char*>(buf), size);
  g_free(buf);
  return bytes;
}

}  // namespace poste::media::files
