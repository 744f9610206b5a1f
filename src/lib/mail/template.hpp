#pragma once
// Mail templates: Mustache (kainjow) for a subject, an HTML body and a text body. Compile once, render many:
// a campaign renders thousands of messages with one CompiledTemplate, from several threads at once. Compiled
// templates render straight from the JSON variables, writing what kainjow writes (kainjow parses and checks
// them, and renders those with set-delimiter tags).
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace poste::mail {

inline constexpr std::size_t kMaxTemplateBytes = 1 << 20;  // per part
inline constexpr std::size_t kMaxSectionDepth = 32;
inline constexpr std::size_t kMaxVariableDepth = 32;  // nesting of the JSON variables

struct TemplateSource {
  std::string subject;
  std::string html;
  std::string text;
};

// Where a template is broken: 1-based line and column (in characters) of the offending tag.
struct TemplateSyntaxError {
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;  // without the position, e.g. "Unclosed section \"items\"."
};

// The first syntax error of one part, or nullopt. Partials ({{>name}}) are errors: their text would come
// from the variables, i.e. from the recipients. So are sections nested deeper than kMaxSectionDepth.
std::optional<TemplateSyntaxError> FindSyntaxError(std::string_view source);

enum class VariableKind { kVariable, kSection, kInvertedSection };

struct TemplateVariable {
  std::string name;  // as written, dotted names kept whole: "order.total"
  VariableKind kind = VariableKind::kVariable;
  std::string section;  // the enclosing sections, outermost first, joined by '/': "" at the top level
  std::string part;     // "subject", "html" or "text"
  bool operator==(const TemplateVariable&) const = default;
};

struct RenderedMessage {
  std::string subject;  // one line: control characters became spaces, runs of whitespace one space
  std::string html;     // variables HTML-escaped ({{{x}}} and {{&x}} are not)
  std::string text;     // variables as they are
};

class CompiledTemplate {
 public:
  // Throws AppError::Validation with one field error per broken part: field "subject" / "html" / "text",
  // code "template_syntax" (message "line L, column C: ..."), "too_long" or, for a subject template with a
  // line break, "header_injection".
  static CompiledTemplate Compile(const TemplateSource& source);
  // The same, for sending: when the text part is empty, Render gives the text derived from the HTML. When the
  // HTML's tags are all plain variables in its text (not in markup, <head>, <title>, <style> or <script>), the
  // text is derived once from the HTML template and rendered per message, values with their whitespace
  // collapsed as HTML shows them (a campaign's derivation then costs nothing per message); otherwise each
  // rendered HTML is converted.
  static CompiledTemplate CompileForSending(const TemplateSource& source);

  CompiledTemplate(CompiledTemplate&&) noexcept;
  CompiledTemplate& operator=(CompiledTemplate&&) noexcept;
  ~CompiledTemplate();

  // Every use of a name, deduplicated (same name, kind, section and part), in order of appearance. "{{.}}"
  // and comments are left out.
  const std::vector<TemplateVariable>& Variables() const;

  // The names a render needs: variables outside any section (a section may legitimately be absent: it is
  // then not shown). Returns those that `variables` (a JSON object) lacks or holds as null, following dotted
  // names through objects; in order of first use, without duplicates.
  std::vector<std::string> MissingVariables(const nlohmann::json& variables) const;

  // Renders the three parts with `variables` (a JSON object; null is an empty one). Missing names render
  // as nothing. Numbers render as JSON writes them, null and false hide a section, arrays repeat it.
  // Thread-safe. Throws AppError::Validation (field "variables") when `variables` is not an object or is
  // nested deeper than kMaxVariableDepth.
  RenderedMessage Render(const nlohmann::json& variables) const;

 private:
  struct Impl;
  explicit CompiledTemplate(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace poste::mail
