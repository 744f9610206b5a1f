#pragma once
// libvips, loaded with dlopen on the first image job instead of linked: its shared-library closure
// (librsvg, OpenEXR, HDF5, poppler, ICU, ...) is about 100 libraries, which every `poste` process otherwise
// maps and relocates at start-up whether or not it ever resizes an image (idle RSS: 36 MB linked, see
// bench/RESULTS.md). The declarations still come from libvips' own headers, so the function pointers below
// have exactly its types. Internal to media_files.cpp.
#include <vips/vips.h>

namespace poste::media::vips_runtime {

// libvips' C functions that media_files.cpp calls, resolved once.
struct Api {
  decltype(&::vips_error_buffer) error_buffer;
  decltype(&::vips_error_clear) error_clear;
  decltype(&::vips_foreign_find_load) foreign_find_load;
  decltype(&::vips_image_new_from_file) image_new_from_file;
  decltype(&::vips_image_get_width) image_get_width;
  decltype(&::vips_image_get_height) image_get_height;
  decltype(&::vips_image_get_typeof) image_get_typeof;
  decltype(&::vips_image_get_int) image_get_int;
  decltype(&::vips_thumbnail) thumbnail;
  decltype(&::vips_webpsave) webpsave;
  decltype(&::vips_black) black;
  decltype(&::vips_linear) linear;
  decltype(&::vips_cast) cast;
  decltype(&::vips_image_write_to_buffer) image_write_to_buffer;
};

// Loads and starts libvips the first time (untrusted loaders blocked, no operation cache, its warnings sent
// to the log); thread-safe. Throws std::runtime_error when the library cannot be loaded or started.
const Api& Get();

}  // namespace poste::media::vips_runtime
