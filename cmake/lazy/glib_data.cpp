// The one piece of GLib data Poste's code refers to: g_utf8_skip, read by the g_utf8_next_char macro
// (modules/media/media_names.cpp). Data cannot go through a lazy stand-in (cmake/LazyLibrary.cmake), so the
// executable has its own copy of this constant: the length of a UTF-8 sequence by its first byte, as GLib's
// gutf8.c defines it (fixed by the encoding; 0xFE and 0xFF, never valid, count as one byte). Hidden: GLib itself
// keeps using its own.
namespace {

struct Utf8Skip {
  char bytes[256];
};

constexpr Utf8Skip MakeUtf8Skip() {
  Utf8Skip t{};
  for (int b = 0; b < 256; ++b) {
    t.bytes[b] = static_cast<char>(b < 0xC0   ? 1
                                   : b < 0xE0 ? 2
                                   : b < 0xF0 ? 3
                                   : b < 0xF8 ? 4
                                   : b < 0xFC ? 5
                                   : b < 0xFE ? 6
                                              : 1);
  }
  return t;
}

constexpr Utf8Skip kUtf8Skip = MakeUtf8Skip();

}  // namespace

extern "C" __attribute__((visibility("hidden"))) const char* const g_utf8_skip = kUtf8Skip.bytes;
