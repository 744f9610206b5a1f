#pragma once
// Searching text columns with LIKE: a pattern that matches a user's text literally (its % and _ are data),
// for "WHERE column LIKE :pattern ESCAPE '\'" (db::CaseInsensitiveLike for the case-insensitive operator).
#include <string>
#include <string_view>

namespace poste::db {

// "%<text>%" with %, _ and \ escaped by a backslash.
inline std::string ContainsPattern(std::string_view text) {
  std::string out = "%";
  for (char ch : text) {
    if (ch == '%' || ch == '_' || ch == '\\') out += '\\';
    out += ch;
  }
  return out + "%";
}

}  // namespace poste::db
