#include "lib/mail/html_scan.hpp"

#include "lib/mail/entities.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail {

namespace {
namespace ascii = validate::ascii;
}  // namespace

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii::ToLower(a[i]) != ascii::ToLower(b[i])) return false;
  }
  return true;
}

std::size_t FindClosingTag(std::string_view html, std::string_view name, std::size_t from) {
  for (auto p = html.find("</", from); p != std::string_view::npos; p = html.find("</", p + 2)) {
    if (IEquals(html.substr(p + 2, name.size()), name)) return p;
  }
  return std::string_view::npos;
}

std::size_t ReadHtmlTag(std::string_view html, std::size_t i, HtmlTag& tag) {
  std::size_t p = i + 1;
  if (p < html.size() && html[p] == '/') {
    tag.closing = true;
    ++p;
  }
  while (p < html.size() && (ascii::IsAlnum(html[p]) || html[p] == '-' || html[p] == ':')) {
    tag.name.push_back(ascii::ToLower(html[p++]));
  }
  while (p < html.size()) {
    char c = html[p];
    if (c == '>') return p + 1;
    if (ascii::IsSpace(c) || c == '/') {
      ++p;
      continue;
    }
    std::string name;
    while (p < html.size() && !ascii::IsSpace(html[p]) && html[p] != '=' && html[p] != '>' && html[p] != '/') {
      name.push_back(ascii::ToLower(html[p++]));
    }
    if (name.empty()) {  // a lone '=' or the like
      ++p;
      continue;
    }
    while (p < html.size() && ascii::IsSpace(html[p])) ++p;
    std::string value;
    if (p < html.size() && html[p] == '=') {
      ++p;
      while (p < html.size() && ascii::IsSpace(html[p])) ++p;
      if (p < html.size() && (html[p] == '"' || html[p] == '\'')) {
        auto end = html.find(html[p], p + 1);
        if (end == std::string_view::npos) return std::string_view::npos;
        value = std::string(html.substr(p + 1, end - p - 1));
        p = end + 1;
      } else {
        while (p < html.size() && !ascii::IsSpace(html[p]) && html[p] != '>') value.push_back(html[p++]);
      }
    }
    if (name == "href") tag.href = DecodeEntities(value);
    if (name == "alt") tag.alt = value;
  }
  return std::string_view::npos;
}

}  // namespace poste::mail
