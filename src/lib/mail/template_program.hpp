#pragma once
// Internal to lib/mail/template.cpp (and its tests): the flat renderer of compiled templates. A template
// compiled for Render is also parsed into a Program: what kainjow's parser makes of the same source (text,
// line ends, variables, sections), flat, run straight over the JSON variables. kainjow would need them
// converted to its own data first, and walks a tree with one component per word and space through
// std::function calls; this does neither, and writes the same bytes (template_test compares them on random
// templates and variables).
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poste::mail::detail {

// A value as HTML shows it in running text: each run of whitespace one space.
std::string CollapseWhitespace(const std::string& value);

// Throws as the conversion to kainjow's data does when `value` is nested deeper than kMaxVariableDepth,
// without converting it.
void CheckDepth(const nlohmann::json& value, std::size_t depth);

// How a part's {{variables}} are written: HTML-escaped as kainjow escapes (html), as they are (subject and
// text), or with their whitespace collapsed (the text derived from the HTML, see CollapseWhitespace).
enum class Escape { kHtml, kNone, kCollapse };

class Program {
 public:
  // Nothing when the source uses what only kainjow renders (set-delimiter tags) or is not a valid template.
  static std::optional<Program> Parse(std::string_view source);

  // Appends the rendering of `root` (a JSON object; null is an empty one) to `out`.
  void Render(const nlohmann::json& root, Escape escape, std::string& out) const;

 private:
  enum class Kind : unsigned char { kText, kLineEnd, kVariable, kSection, kInverted };
  struct Node {
    Kind kind = Kind::kText;
    bool escaped = false;   // a variable written with {{x}}, not {{{x}}} or {{&x}}
    std::size_t begin = 0;  // kText, kLineEnd: the text, texts_[begin, begin + size)
    std::size_t size = 0;
    std::size_t name = 0;  // variables and sections: in names_
    std::size_t end = 0;   // sections: the index after their content
  };
  // A tag's name as kainjow's context looks it up: "." (the innermost value), one key, or a dotted path.
  struct Name {
    bool dot = false;
    bool path = false;
    std::string key;                 // the whole name
    std::vector<std::string> parts;  // of a path, split as kainjow splits it (std::getline on '.')
  };
  struct State {
    std::vector<const nlohmann::json*> stack;  // the section values, innermost last; the root first
    std::size_t line_start = 0;                // where the current line starts in the output
    bool section_tag = false;  // the current line holds a rendered section's tag: dropped when otherwise blank
  };

  const nlohmann::json* Lookup(const State& state, const Name& name) const;
  void Run(std::size_t begin, std::size_t end, State& state, Escape escape, std::string& out) const;
  void Section(const nlohmann::json* value, std::size_t begin, std::size_t end, State& state, Escape escape,
               std::string& out) const;
  static void EndLine(State& state, std::string_view line_end, std::string& out);

  std::vector<Node> nodes_;
  std::string texts_;
  std::vector<Name> names_;
};

}  // namespace poste::mail::detail
