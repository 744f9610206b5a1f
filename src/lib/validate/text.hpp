#pragma once
// Byte-level checks for text fields from outside: valid UTF-8, no control characters, length in characters.
#include <cstddef>
#include <string_view>

namespace poste::validate {

// Well-formed UTF-8 per RFC 3629 / Unicode 15 table 3-7: no overlong encodings, no UTF-16 surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated or stray continuation bytes. NUL is valid UTF-8;
// HasControlChars is the check that refuses it.
bool IsValidUtf8(std::string_view text);

// The length (2 to 4) of the well-formed multi-byte UTF-8 sequence starting at text[i] by IsValidUtf8's
// rules, or 0 when none starts there (an ASCII byte included). Requires i < text.size().
inline std::size_t Utf8SequenceLength(std::string_view text, std::size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data()) + i;
  const std::size_t left = text.size() - i;
  const unsigned char c = p[0];
  // The allowed range of the second byte depends on the first: this is what rules out overlong forms
  // (E0 80..9F, F0 80..8F), surrogates (ED A0..BF) and code points above U+10FFFF (F4 90..BF).
  std::size_t length;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    length = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    length = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    length = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;  // ASCII, a stray continuation byte, C0/C1 (always overlong), or F5..FF
  }
  if (left < length || p[1] < lo || p[1] > hi) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if (p[k] < 0x80 || p[k] > 0xBF) return 0;
  }
  return length;
}

// True if `text` holds a control character: C0 (U+0000..U+001F), DEL, C1 (U+0080..U+009F), or the Unicode
// line and paragraph separators (U+2028, U+2029, which JavaScript and some log viewers treat as line ends).
// With allow_newlines, CR, LF, TAB and U+2028/U+2029 are allowed (multi-line fields); without, a single-line
// field cannot smuggle a header or log line break. Works on invalid UTF-8 too (it looks at bytes).
bool HasControlChars(std::string_view text, bool allow_newlines);

// The number of code points in valid UTF-8 (for invalid input, the number of bytes that are not
// continuation bytes: never more than the byte length, so a length cap stays a cap).
std::size_t Utf8Length(std::string_view text);

// The longest prefix of `text` of at most max_bytes that does not cut a UTF-8 character (a column limit
// applied to valid UTF-8 must leave valid UTF-8: PostgreSQL refuses anything else).
std::string_view Utf8Prefix(std::string_view text, std::size_t max_bytes);

}  // namespace poste::validate
