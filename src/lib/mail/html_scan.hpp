#pragma once
// The tag reader under HtmlToText: lenient like a browser, with no tree and no recursion.
#include <cstddef>
#include <string>
#include <string_view>

namespace poste::mail {

struct HtmlTag {
  std::string name;  // lower case
  bool closing = false;
  std::string href;  // entities decoded
  std::string alt;   // as written
};

// Reads the tag at html[i] (a '<'): its name and the href and alt attributes (quoted, single-quoted or bare
// values). Returns the position after the tag, or npos when the tag never closes.
std::size_t ReadHtmlTag(std::string_view html, std::size_t i, HtmlTag& tag);

// The position of "</name" (any case) at or after `from`, or npos: where a script or style ends.
std::size_t FindClosingTag(std::string_view html, std::string_view name, std::size_t from);

// ASCII case-insensitive equality.
bool IEquals(std::string_view a, std::string_view b);

}  // namespace poste::mail
