#include "modules/media/vips_runtime.hpp"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <stdexcept>
#include <string>

namespace poste::media::vips_runtime {
namespace {

template <class F>
void Resolve(void* lib, F& fn, const char* name) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
  if (!fn) throw std::runtime_error(std::string("libvips has no ") + name);
}

Api Load() {
  // POSTE_VIPS_SONAME: the soname of the libvips the build compiled against (src/modules/CMakeLists.txt).
  // RTLD_GLOBAL: libvips' own loadable modules (HEIF, ...) resolve its symbols.
  void* lib = dlopen(POSTE_VIPS_SONAME, RTLD_NOW | RTLD_GLOBAL);
  if (!lib) throw std::runtime_error(std::string("cannot load libvips: ") + dlerror());
  // Never closed: libvips cannot be unloaded once started.
  decltype(&::vips_version) version = nullptr;
  decltype(&::vips_init) init = nullptr;
  decltype(&::vips_block_untrusted_set) block_untrusted_set = nullptr;
  decltype(&::vips_cache_set_max) cache_set_max = nullptr;
  Resolve(lib, version, "vips_version");
  Resolve(lib, init, "vips_init");
  Resolve(lib, block_untrusted_set, "vips_block_untrusted_set");
  Resolve(lib, cache_set_max, "vips_cache_set_max");
  Api api{};
  Resolve(lib, api.error_buffer, "vips_error_buffer");
  Resolve(lib, api.error_clear, "vips_error_clear");
  Resolve(lib, api.foreign_find_load, "vips_foreign_find_load");
  Resolve(lib, api.image_new_from_file, "vips_image_new_from_file");
  Resolve(lib, api.image_get_width, "vips_image_get_width");
  Resolve(lib, api.image_get_height, "vips_image_get_height");
  Resolve(lib, api.image_get_typeof, "vips_image_get_typeof");
  Resolve(lib, api.image_get_int, "vips_image_get_int");
  Resolve(lib, api.thumbnail, "vips_thumbnail");
  Resolve(lib, api.webpsave, "vips_webpsave");
  Resolve(lib, api.black, "vips_black");
  Resolve(lib, api.linear, "vips_linear");
  Resolve(lib, api.cast, "vips_cast");
  Resolve(lib, api.image_write_to_buffer, "vips_image_write_to_buffer");

  // What VIPS_INIT checks: the library's ABI is the one the headers describe.
  if (version(3) - version(5) != VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE) {
    throw std::runtime_error("libvips ABI mismatch: library " + std::to_string(version(3) - version(5)) +
                             ", built for " + std::to_string(VIPS_LIBRARY_CURRENT - VIPS_LIBRARY_AGE));
  }
  if (init("poste") != 0) throw std::runtime_error("libvips failed to start: " + std::string(api.error_buffer()));
  // Loaders that were never fuzzed (ImageMagick, PDF, ...) must not see user files, even by mistake.
  block_untrusted_set(TRUE);
  // Paths are unique per content; an operation cache would only hold memory and open files.
  cache_set_max(0);
  // libvips warns about every damaged file on stderr, which would break the JSON log lines: log them instead.
  g_log_set_handler(
      "VIPS", static_cast<GLogLevelFlags>(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO),
      [](const gchar*, GLogLevelFlags, const gchar* message, gpointer) { spdlog::debug("libvips: {}", message); },
      nullptr);
  return api;
}

}  // namespace

const Api& Get() {
  static std::once_flag once;
  static Api api{};
  std::call_once(once, [] { api = Load(); });  // a throw leaves the flag unset: the next call tries again
  return api;
}

}  // namespace poste::media::vips_runtime
