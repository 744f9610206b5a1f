#include "lib/mail/entities.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

#include "lib/validate/ascii.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
constexpr std::size_t kMaxEntityName = 32;

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    out += kReplacement;
  } else if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

struct Entity {
  std::string_view name;
  uint32_t code_point;
};

// The named references seen in real mail, sorted by name for binary search.
constexpr std::array<Entity, 52> kEntities = {{
    {"Aacute", 0xc1},  {"Eacute", 0xc9},  {"aacute", 0xe1},   {"acirc", 0xe2},  {"agrave", 0xe0},  {"amp", '&'},
    {"apos", '\''},    {"auml", 0xe4},    {"bull", 0x2022},   {"ccedil", 0xe7}, {"cent", 0xa2},    {"copy", 0xa9},
    {"deg", 0xb0},     {"divide", 0xf7},  {"eacute", 0xe9},   {"ecirc", 0xea},  {"egrave", 0xe8},  {"euml", 0xeb},
    {"euro", 0x20ac},  {"gt", '>'},       {"hellip", 0x2026}, {"iacute", 0xed}, {"icirc", 0xee},   {"iuml", 0xef},
    {"laquo", 0xab},   {"ldquo", 0x201c}, {"lsquo", 0x2018},  {"lt", '<'},      {"mdash", 0x2014}, {"middot", 0xb7},
    {"nbsp", 0xa0},    {"ndash", 0x2013}, {"ntilde", 0xf1},   {"oacute", 0xf3}, {"ocirc", 0xf4},   {"ouml", 0xf6},
    {"para", 0xb6},    {"pound", 0xa3},   {"quot", '"'},      {"raquo", 0xbb},  {"rdquo", 0x201d}, {"reg", 0xae},
    {"rsquo", 0x2019}, {"sect", 0xa7},    {"shy", 0xad},      {"szlig", 0xdf},  {"times", 0xd7},   {"trade", 0x2122},
    {"uacute", 0xfa},  {"ucirc", 0xfb},   {"uuml", 0xfc},     {"yen", 0xa5},
}};

// One reference at text[i] ('&'): appends it decoded and returns the length consumed, or 0 if it is none.
std::size_t DecodeOne(std::string_view text, std::size_t i, std::string& out) {
  auto semi = text.find(';', i + 1);
  if (semi == std::string_view::npos || semi - i - 1 > kMaxEntityName || semi == i + 1) return 0;
  std::string_view body = text.substr(i + 1, semi - i - 1);
  if (body.front() == '#') {
    bool hex = body.size() > 1 && (body[1] == 'x' || body[1] == 'X');
    std::string_view digits = body.substr(hex ? 2 : 1);
    if (digits.empty() || digits.size() > 8) return 0;
    uint32_t cp = 0;
    for (char c : digits) {
      int v = ascii::IsDigit(c)               ? c - '0'
              : (hex && c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (hex && c >= 'A' && c <= 'F') ? c - 'A' + 10
                                              : -1;
      if (v < 0) return 0;
      cp = cp * (hex ? 16 : 10) + static_cast<uint32_t>(v);
    }
    AppendUtf8(out, cp);
    return semi - i + 1;
  }
  auto it = std::lower_bound(kEntities.begin(), kEntities.end(), body,
                             [](const Entity& e, std::string_view name) { return e.name < name; });
  if (it == kEntities.end() || it->name != body) return 0;
  AppendUtf8(out, it->code_point);
  return semi - i + 1;
}

}  // namespace

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t run = 0;  // the start of the valid bytes not yet copied: copied in one piece
  for (std::size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = validate::Utf8SequenceLength(text, i);
    if (n > 0) {
      i += n;
      continue;
    }
    out.append(text.substr(run, i - run)).append(kReplacement);
    run = ++i;
  }
  out.append(text.substr(run));
  return out;
}

std::string DecodeEntities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    auto amp = text.find('&', i);
    out.append(text.substr(i, amp == std::string_view::npos ? std::string_view::npos : amp - i));
    if (amp == std::string_view::npos) break;
    auto used = DecodeOne(text, amp, out);
    if (used == 0) {
      out.push_back('&');
      i = amp + 1;
    } else {
      i = amp + used;
    }
  }
  return out;
}

std::string ToLf(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t cr = text.find('\r', start);
    out.append(text.substr(start, cr == std::string_view::npos ? std::string_view::npos : cr - start));
    if (cr == std::string_view::npos) break;
    out.push_back('\n');
    start = cr + (cr + 1 < text.size() && text[cr + 1] == '\n' ? 2 : 1);
  }
  return out;
}

}  // namespace poste::mail
