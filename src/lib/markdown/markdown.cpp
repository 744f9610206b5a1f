#include "lib/markdown/markdown.hpp"

#include <md4c-html.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace poste::markdown {
namespace {

constexpr std::array<std::string_view, 5> kAllowedSchemes = {"http", "https", "mailto", "tel", "ftp"};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string& out, std::uint32_t cp) {
  if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The named references that can spell a scheme or hide one (HTML5 decodes them in attributes).
std::string_view NamedEntity(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"amp", "&"},    {"lt", "<"},       {"gt", ">"},   {"quot", "\""}, {"apos", "'"},   {"colon", ":"},
      {"Tab", "\t"},   {"NewLine", "\n"}, {"nbsp", " "}, {"sol", "/"},   {"lpar", "("},   {"rpar", ")"},
      {"period", "."}, {"excl", "!"},     {"num", "#"},  {"quest", "?"}, {"percnt", "%"}, {"semi", ";"}};
  for (const auto& [n, v] : kNames) {
    if (n == name) return v;
  }
  return {};
}

// One pass of decoding: HTML character references (with or without the ';') and %XX escapes.
std::string DecodeOnce(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    const char c = in[i];
    if (c == '%' && i + 2 < in.size() && HexValue(in[i + 1]) >= 0 && HexValue(in[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2]));
      i += 3;
      continue;
    }
    if (c == '&' && i + 1 < in.size()) {
      std::size_t j = i + 1;
      if (in[j] == '#') {
        ++j;
        const bool hex = j < in.size() && (in[j] == 'x' || in[j] == 'X');
        if (hex) ++j;
        std::uint32_t cp = 0;
        std::size_t digits = 0;
        while (j < in.size()) {
          const int v = hex ? HexValue(in[j]) : (in[j] >= '0' && in[j] <= '9' ? in[j] - '0' : -1);
          if (v < 0) break;
          if (cp < 0x110000) cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
          ++j, ++digits;
        }
        if (digits > 0) {
          if (j < in.size() && in[j] == ';') ++j;
          AppendUtf8(out, cp);
          i = j;
          continue;
        }
      } else {
        std::size_t end = j;
        while (end < in.size() && end - j < 16 &&
               ((in[end] >= 'a' && in[end] <= 'z') || (in[end] >= 'A' && in[end] <= 'Z'))) {
          ++end;
        }
        // The longest known name that prefixes the run of letters (browsers accept some without ';').
        for (std::size_t len = end - j; len > 0; --len) {
          auto value = NamedEntity(in.substr(j, len));
          if (value.empty()) continue;
          std::size_t next = j + len;
          if (next < in.size() && in[next] == ';') ++next;
          out += value;
          i = next;
          goto decoded;
        }
      }
    }
    out += c;
    ++i;
  decoded:;
  }
  return out;
}

// Removes the href="..." / src="..." attributes md4c wrote whose URL is not safe. With MD_FLAG_NOHTML every
// '"' of the input is written as &quot;, so a literal attr=" in the output is always one of md4c's own.
std::string StripUnsafeUrls(const std::string& html) {
  std::string out;
  out.reserve(html.size());
  std::size_t i = 0;
  while (i < html.size()) {
    std::size_t href = html.find(" href=\"", i), src = html.find(" src=\"", i);
    std::size_t at = std::min(href, src);
    if (at == std::string::npos) break;
    const std::size_t value_start = at + (at == href ? 7 : 6);
    const std::size_t value_end = html.find('"', value_start);
    if (value_end == std::string::npos) break;
    out.append(html, i, at - i);
    std::string_view value(html.data() + value_start, value_end - value_start);
    if (IsSafeUrl(value)) out.append(html, at, value_end + 1 - at);
    i = value_end + 1;
  }
  out.append(html, i, std::string::npos);
  return out;
}

}  // namespace

bool IsSafeUrl(std::string_view url) {
  std::string decoded(url);
  for (int round = 0; round < 8; ++round) {  // nested encodings (&amp;#106; ...) until nothing changes
    std::string next = DecodeOnce(decoded);
    if (next == decoded) break;
    decoded = std::move(next);
  }
  std::string folded;
  for (unsigned char c : decoded) {
    if (c <= 0x20 || c == 0x7F) continue;  // browsers strip leading C0/space and tabs/newlines anywhere
    folded += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : static_cast<char>(c);
  }
  const std::size_t colon = folded.find(':');
  if (colon == std::string::npos) return true;
  const std::size_t delimiter = folded.find_first_of("/?#");
  if (delimiter != std::string::npos && delimiter < colon) return true;  // a relative URL with a ':' later
  const std::string_view scheme(folded.data(), colon);
  for (auto allowed : kAllowedSchemes) {
    if (scheme == allowed) return true;
  }
  return false;
}

std::string RenderMarkdown(std::string_view markdown) {
  std::string html;
  html.reserve(markdown.size() + markdown.size() / 4 + 16);
  auto append = [](const MD_CHAR* text, MD_SIZE size, void* userdata) {
    static_cast<std::string*>(userdata)->append(text, size);
  };
  const unsigned parser_flags = MD_DIALECT_GITHUB | MD_FLAG_NOHTML;
  if (md_html(markdown.data(), static_cast<MD_SIZE>(markdown.size()), append, &html, parser_flags,
              MD_HTML_FLAG_SKIP_UTF8_BOM) != 0) {
    return {};  // md4c fails only on memory exhaustion: render nothing rather than half a document
  }
  return StripUnsafeUrls(html);
}

}  // namespace poste::markdown
