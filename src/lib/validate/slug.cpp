#include "lib/validate/slug.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "lib/validate/ascii.hpp"

namespace poste::validate {

namespace {

// ASCII folds of U+00C0..U+017F (Latin-1 Supplement letters and Latin Extended-A), lower case; "" for the
// two symbols in the range (× and ÷), which become separators.
// One row per 16 code points, under the letters it folds.
// clang-format off
constexpr std::array<std::string_view, 0x180 - 0xC0> kFolds = {
    // U+00C0 À Á Â Ã Ä Å Æ Ç È É Ê Ë Ì Í Î Ï
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    // U+00D0 Ð Ñ Ò Ó Ô Õ Ö × Ø Ù Ú Û Ü Ý Þ ß
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss",
    // U+00E0 à á â ã ä å æ ç è é ê ë ì í î ï
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    // U+00F0 ð ñ ò ó ô õ ö ÷ ø ù ú û ü ý þ ÿ
    "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y",
    // U+0100 Ā ā Ă ă Ą ą Ć ć Ĉ ĉ Ċ ċ Č č Ď ď
    "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d",
    // U+0110 Đ đ Ē ē Ĕ ĕ Ė ė Ę ę Ě ě Ĝ ĝ Ğ ğ
    "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g",
    // U+0120 Ġ ġ Ģ ģ Ĥ ĥ Ħ ħ Ĩ ĩ Ī ī Ĭ ĭ Į į
    "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i",
    // U+0130 İ ı Ĳ ĳ Ĵ ĵ Ķ ķ ĸ Ĺ ĺ Ļ ļ Ľ ľ Ŀ
    "i", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l",
    // U+0140 ŀ Ł ł Ń ń Ņ ņ Ň ň ŉ Ŋ ŋ Ō ō Ŏ ŏ
    "l", "l", "l", "n", "n", "n", "n", "n", "n", "n", "n", "n", "o", "o", "o", "o",
    // U+0150 Ő ő Œ œ Ŕ ŕ Ŗ ŗ Ř ř Ś ś Ŝ ŝ Ş ş
    "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s",
    // U+0160 Š š Ţ ţ Ť ť Ŧ ŧ Ũ ũ Ū ū Ŭ ŭ Ů ů
    "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u",
    // U+0170 Ű ű Ų ų Ŵ ŵ Ŷ ŷ Ÿ Ź ź Ż ż Ž ž ſ
    "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s",
};
// clang-format on

// Decodes one UTF-8 sequence at the front of `s`; returns the code point and its length, or U+FFFD and 1 for a
// malformed byte (each bad byte then becomes a separator, never a letter).
std::pair<std::uint32_t, std::size_t> Decode(std::string_view s) {
  constexpr std::uint32_t kBad = 0xFFFD;
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = byte(0);
  std::size_t length = 0;
  if (c >= 0xC2 && c <= 0xDF) length = 2;
  if (c >= 0xE0 && c <= 0xEF) length = 3;
  if (c >= 0xF0 && c <= 0xF4) length = 4;
  if (length == 0 || length > s.size()) return {kBad, 1};
  std::uint32_t cp = c & (0x7F >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return {kBad, 1};
    cp = (cp << 6) | (byte(i) & 0x3F);
  }
  constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {kBad, 1};
  return {cp, length};
}

std::string_view Fold(std::uint32_t cp) {
  if (cp >= 0xC0 && cp < 0x180) return kFolds[cp - 0xC0];
  switch (cp) {
    case 0x0218:  // Ș
    case 0x0219:  // ș
      return "s";
    case 0x021A:  // Ț
    case 0x021B:  // ț
      return "t";
    default:
      return "";
  }
}

bool IsCombiningMark(std::uint32_t cp) { return cp >= 0x0300 && cp <= 0x036F; }

}  // namespace

bool IsValidSlug(std::string_view slug) {
  if (slug.empty() || slug.size() > kMaxSlug) return false;
  if (slug.front() == '-' || slug.back() == '-') return false;
  char previous = 0;
  for (char c : slug) {
    if (c == '-' ? previous == '-' : !(ascii::IsLower(c) || ascii::IsDigit(c))) return false;
    previous = c;
  }
  return true;
}

std::string Slugify(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxSlug + 4));
  bool pending_dash = false;
  auto append = [&](std::string_view piece) {
    if (pending_dash && !out.empty()) out += '-';
    pending_dash = false;
    out += piece;
  };
  // Stops once the slug is longer than it may be: the rest of a huge input is never read.
  while (!text.empty() && out.size() <= kMaxSlug) {
    unsigned char c = static_cast<unsigned char>(text.front());
    if (c < 0x80) {
      text.remove_prefix(1);
      if (ascii::IsAlnum(static_cast<char>(c))) {
        char lower = ascii::ToLower(static_cast<char>(c));
        append(std::string_view(&lower, 1));
      } else {
        pending_dash = true;
      }
      continue;
    }
    auto [cp, length] = Decode(text);
    text.remove_prefix(length);
    if (IsCombiningMark(cp)) continue;  // "e" + U+0301 (decomposed é) stays "e"
    std::string_view folded = Fold(cp);
    if (folded.empty()) {
      pending_dash = true;
    } else {
      append(folded);
    }
  }
  if (out.size() > kMaxSlug) {
    // Cut at the last word boundary that fits, unless that would lose more than half the slug.
    auto dash = out.rfind('-', kMaxSlug);
    out.resize(dash != std::string::npos && dash >= kMaxSlug / 2 ? dash : kMaxSlug);
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace poste::validate
