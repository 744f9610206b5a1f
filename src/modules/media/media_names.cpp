#include "modules/media/media_names.hpp"

#include <glib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>

#include "lib/validate/ascii.hpp"
#include "modules/media/media_types.hpp"

namespace poste::media {

namespace {

constexpr std::size_t kHashChars = 32;

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Characters left out of a displayed name: controls, bidirectional overrides (which can disguise an
// extension: "gpj.exe" shown as "exe.jpg"), zero-width and other invisible formatting characters.
bool Dropped(gunichar c) {
  if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  if (c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) return true;
  if ((c >= 0x200b && c <= 0x200d) || c == 0xfeff || c == 0x2028 || c == 0x2029 || c == 0x00ad) return true;
  return false;
}

// Reserved on Windows: replaced, so a downloaded file keeps a usable name.
bool Replaced(gunichar c) { return c == '<' || c == '>' || c == ':' || c == '"' || c == '|' || c == '?' || c == '*'; }

struct GFree {
  void operator()(gchar* p) const { g_free(p); }
};

}  // namespace

std::string StoredFileName(std::int64_t id, std::string_view sha256_hex, std::string_view ext) {
  return std::to_string(id) + "-" + std::string(sha256_hex.substr(0, kHashChars)) + "." + std::string(ext);
}

std::string VariantFileName(std::int64_t id, std::string_view sha256_hex, int width) {
  return std::to_string(id) + "-" + std::string(sha256_hex.substr(0, kHashChars)) + "-" + std::to_string(width) +
         ".webp";
}

std::string FileUrl(std::int64_t site_id, std::string_view name) {
  return "/media/" + std::to_string(site_id) + "/" + std::string(name);
}

std::optional<ServedName> ParseServedName(std::string_view name) {
  // {id}-{32 hex}[-{width}].{ext}
  auto dash = name.find('-');
  auto dot = name.rfind('.');
  if (dash == std::string_view::npos || dash == 0 || dot == std::string_view::npos || dot < dash) return std::nullopt;
  ServedName out;
  auto id_text = name.substr(0, dash);
  auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), out.id);
  if (ec != std::errc() || end != id_text.data() + id_text.size() || out.id <= 0 || id_text[0] == '0') {
    return std::nullopt;
  }
  auto middle = name.substr(dash + 1, dot - dash - 1);
  if (middle.size() < kHashChars || !IsLowerHex(middle.substr(0, kHashChars))) return std::nullopt;
  out.hash = std::string(middle.substr(0, kHashChars));
  auto rest = middle.substr(kHashChars);
  if (!rest.empty()) {
    if (rest[0] != '-') return std::nullopt;
    int width = 0;
    auto w = rest.substr(1);
    auto [wend, wec] = std::from_chars(w.data(), w.data() + w.size(), width);
    if (wec != std::errc() || wend != w.data() + w.size() || w.empty() || w[0] == '0' ||
        std::find(kVariantWidths.begin(), kVariantWidths.end(), width) == kVariantWidths.end()) {
      return std::nullopt;
    }
    out.width = width;
  }
  out.ext = std::string(name.substr(dot + 1));
  if (out.ext.empty() || out.ext.size() > 5 || !std::all_of(out.ext.begin(), out.ext.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      })) {
    return std::nullopt;
  }
  if (out.width && out.ext != "webp") return std::nullopt;
  return out;
}

CleanName SanitizeFilename(std::string_view raw) {
  std::unique_ptr<gchar, GFree> valid(g_utf8_make_valid(raw.data(), static_cast<gssize>(raw.size())));
  std::string_view text(valid.get());  // NUL bytes end it here: what follows a NUL is dropped
  auto slash = text.find_last_of("/\\");
  if (slash != std::string_view::npos) text.remove_prefix(slash + 1);
  std::unique_ptr<gchar, GFree> nfc(g_utf8_normalize(text.data(), static_cast<gssize>(text.size()), G_NORMALIZE_NFC));
  std::string name;
  for (const gchar* p = nfc ? nfc.get() : ""; *p; p = g_utf8_next_char(p)) {
    const gunichar c = g_utf8_get_char(p);
    if (Dropped(c)) continue;
    if (Replaced(c)) {
      name += '_';
      continue;
    }
    name.append(p, g_utf8_next_char(p) - p);
  }
  // No hidden files, no names Windows cannot store.
  auto first = name.find_first_not_of(". ");
  name.erase(0, first == std::string::npos ? name.size() : first);
  while (!name.empty() && (name.back() == '.' || name.back() == ' ')) name.pop_back();

  CleanName out;
  auto dot = name.rfind('.');
  if (dot != std::string::npos) {
    out.ext = validate::ascii::ToLower(name.substr(dot + 1));
    std::string_view stem(name.data(), dot);
    for (auto inner = stem.find('.'); inner != std::string_view::npos; inner = stem.find('.', inner + 1)) {
      auto next = stem.find('.', inner + 1);
      out.inner_exts.push_back(
          validate::ascii::ToLower(stem.substr(inner + 1, next == std::string_view::npos ? next : next - inner - 1)));
    }
  }
  if (name.size() > kMaxFilenameBytes) {
    // Shorten the stem at a code point boundary, keeping ".ext" (itself capped) intact.
    std::string tail = dot != std::string::npos && name.size() - dot <= 16 ? name.substr(dot) : "";
    std::size_t keep = kMaxFilenameBytes - tail.size();
    while (keep > 0 && (static_cast<unsigned char>(name[keep]) & 0xC0) == 0x80) --keep;
    name = name.substr(0, keep) + tail;
    if (tail.empty()) out.ext.clear();
  }
  out.name = std::move(name);
  return out;
}

bool IsDangerousExtension(std::string_view ext) {
  static constexpr std::array<std::string_view, 36> kDangerous = {
      "php", "php3", "php4", "php5", "php7", "php8",  "phtml", "phar", "pht", "phps", "pl",  "py",
      "cgi", "asp",  "aspx", "asa",  "jsp",  "jspx",  "sh",    "bash", "exe", "dll",  "bat", "cmd",
      "com", "js",   "mjs",  "html", "htm",  "xhtml", "shtml", "hta",  "vbs", "ps1",  "jar", "msi"};
  return std::find(kDangerous.begin(), kDangerous.end(), ext) != kDangerous.end();
}

}  // namespace poste::media
