#include "lib/validate/text.hpp"

#include <bit>
#include <cstdint>
#include <cstring>

namespace poste::validate {

bool IsValidUtf8(std::string_view text) {
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // Eight bytes at a time up to the first non-ASCII one (most text is mostly ASCII), then one character.
    if (n - i >= 8) {
      std::uint64_t word;
      std::memcpy(&word, text.data() + i, 8);
      const std::uint64_t high = word & 0x8080808080808080ull;
      if (high == 0) {
        i += 8;
        continue;
      }
      static_assert(std::endian::native == std::endian::little, "the first byte read is the lowest");
      i += static_cast<std::size_t>(std::countr_zero(high)) / 8;
    }
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t length = Utf8SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

bool HasControlChars(std::string_view text, bool allow_newlines) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = p[i];
    if (c < 0x20) {
      if (allow_newlines && (c == '\n' || c == '\r' || c == '\t')) continue;
      return true;
    }
    if (c == 0x7F) return true;
    if (c == 0xC2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9F) return true;  // C1
    if (!allow_newlines && c == 0xE2 && i + 2 < n && p[i + 1] == 0x80 && (p[i + 2] == 0xA8 || p[i + 2] == 0xA9)) {
      return true;  // U+2028, U+2029
    }
  }
  return false;
}

std::size_t Utf8Length(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

std::string_view Utf8Prefix(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  std::size_t end = max_bytes;
  // Back off the continuation bytes (10xxxxxx) of a character the limit cuts, and then its lead byte.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace poste::validate
