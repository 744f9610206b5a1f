#pragma once
// Byte-level checks for text fields from outside: valid UTF-8, no control characters, length in characters.
#include <cstddef>
#include <string_view>

namespace poste::validate {

// Well-formed UTF-8 per RFC 3629 / Unicode 15 table 3-7: no overlong encodings, no UTF-16 surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF, no truncated or stray continuation bytes. NUL is valid UTF-8;
// HasControlChars is the check that refuses it.
bool IsValidUtf8(std::string_view text);

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
