#include "lib/mail/template.hpp"

#include <kainjow/mustache.hpp>

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_set>
#include <utility>

#include "lib/error.hpp"
#include "lib/mail/html_text.hpp"
#include "lib/mail/template_program.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;
namespace mstch = kainjow::mustache;
using detail::CheckDepth;
using detail::CollapseWhitespace;
using detail::Escape;
using detail::Program;

enum class TagType { kVariable, kUnescaped, kSection, kInverted, kEnd, kPartial, kComment, kDelimiter };

struct Tag {
  TagType type = TagType::kVariable;
  std::string name;
  std::size_t offset = 0;  // of the opening delimiter
};

std::pair<std::size_t, std::size_t> LineColumn(std::string_view source, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < source.size(); ++i) {
    auto u = static_cast<unsigned char>(source[i]);
    if (source[i] == '\n') {
      ++line;
      column = 1;
    } else if ((u & 0xc0) != 0x80) {  // count characters, not UTF-8 continuation bytes
      ++column;
    }
  }
  return {line, column};
}

TemplateSyntaxError ErrorAt(std::string_view source, std::size_t offset, std::string message) {
  auto [line, column] = LineColumn(source, offset);
  return {line, column, std::move(message)};
}

// kainjow's rule for "{{=<% %>=}}": two delimiters without whitespace or '='.
bool ParseDelimiters(std::string_view contents, std::string& begin, std::string& end) {
  if (contents.size() < 5 || contents.back() != '=') return false;
  std::string_view inner = ascii::Trim(contents.substr(1, contents.size() - 2));
  auto space = inner.find(' ');
  if (space == std::string_view::npos) return false;
  auto rest = inner.find_first_not_of(' ', space + 1);
  if (rest == std::string_view::npos) return false;
  std::string_view b = inner.substr(0, space);
  std::string_view e = inner.substr(rest);
  for (std::string_view d : {b, e}) {
    for (char c : d) {
      if (c == '=' || ascii::IsSpace(c)) return false;
    }
  }
  begin = std::string(b);
  end = std::string(e);
  return true;
}

// Walks the tags the way kainjow's parser does (same delimiters, same triple-mustache rule, same trimming),
// so that positions and names agree with what kainjow will compile. `on_tag` sees every tag; the first
// error stops the walk.
template <typename OnTag>
std::optional<TemplateSyntaxError> ScanTags(std::string_view src, OnTag&& on_tag) {
  std::string begin = "{{";
  std::string end = "}}";
  std::vector<Tag> open;
  std::size_t pos = 0;
  while (pos < src.size()) {
    auto start = src.find(begin, pos);
    if (start == std::string_view::npos) break;
    std::size_t contents = start + begin.size();
    bool braces = begin == "{{" && end == "}}";
    bool triple = braces && contents < src.size() && src[contents] == '{';
    if (triple) ++contents;
    std::string_view closing = triple ? std::string_view("}}}") : std::string_view(end);
    auto stop = src.find(closing, contents);
    if (stop == std::string_view::npos) return ErrorAt(src, start, "Unclosed tag.");
    std::string_view body = ascii::Trim(src.substr(contents, stop - contents));
    pos = stop + closing.size();
    Tag tag;
    tag.offset = start;
    if (!body.empty() && body.front() == '=') {
      if (!ParseDelimiters(body, begin, end)) return ErrorAt(src, start, "Invalid set-delimiter tag.");
      tag.type = TagType::kDelimiter;
    } else if (triple) {
      tag.type = TagType::kUnescaped;
      tag.name = std::string(body);
    } else {
      char first = body.empty() ? '\0' : body.front();
      switch (first) {
        case '#':
          tag.type = TagType::kSection;
          break;
        case '^':
          tag.type = TagType::kInverted;
          break;
        case '/':
          tag.type = TagType::kEnd;
          break;
        case '>':
          tag.type = TagType::kPartial;
          break;
        case '&':
          tag.type = TagType::kUnescaped;
          break;
        case '!':
          tag.type = TagType::kComment;
          break;
        default:
          tag.type = TagType::kVariable;
          break;
      }
      tag.name = std::string(tag.type == TagType::kVariable ? body : ascii::Trim(body.substr(1)));
    }
    switch (tag.type) {
      case TagType::kPartial:
        return ErrorAt(src, start, "Partials ({{>name}}) are not supported.");
      case TagType::kSection:
      case TagType::kInverted:
        if (tag.name.empty()) return ErrorAt(src, start, "A section needs a name.");
        if (open.size() >= kMaxSectionDepth) return ErrorAt(src, start, "Sections are nested too deeply.");
        on_tag(tag, open);
        open.push_back(tag);
        continue;
      case TagType::kEnd:
        if (open.empty()) return ErrorAt(src, start, "Section \"" + tag.name + "\" is closed but was never opened.");
        if (open.back().name != tag.name) {
          return ErrorAt(src, start, "Section \"" + open.back().name + "\" is closed by \"/" + tag.name + "\".");
        }
        open.pop_back();
        continue;
      default:
        on_tag(tag, open);
    }
  }
  if (!open.empty()) return ErrorAt(src, open.back().offset, "Unclosed section \"" + open.back().name + "\".");
  return std::nullopt;
}

// kainjow reports "... at N" with N a byte offset: used only if it finds an error the scan did not.
TemplateSyntaxError FromKainjow(std::string_view source, const std::string& message) {
  std::size_t offset = 0;
  auto at = message.rfind(" at ");
  if (at != std::string::npos) {
    std::from_chars(message.data() + at + 4, message.data() + message.size(), offset);
  }
  return ErrorAt(source, offset, message.substr(0, at) + ".");
}

mstch::data ToData(const nlohmann::json& value, std::size_t depth) {
  if (depth > kMaxVariableDepth) {
    throw AppError::Validation({{"variables", "too_deep", "The variables are nested too deeply."}});
  }
  // Values are moved into their object or list: kainjow's set() and push_back() copy them, nested ones whole.
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      mstch::data out(mstch::data::type::object);
      for (const auto& [key, item] : value.items()) out[key] = ToData(item, depth + 1);  // JSON keys are unique
      return out;
    }
    case nlohmann::json::value_t::array: {
      mstch::data out(mstch::data::type::list);
      // kainjow has no non-const access to a list; the list is the data's own heap object, not a const one.
      auto& items = const_cast<mstch::list&>(out.list_value());
      items.reserve(value.size());
      for (const auto& item : value) items.push_back(ToData(item, depth + 1));
      return out;
    }
    case nlohmann::json::value_t::string:
      return mstch::data(value.get_ref<const std::string&>());
    case nlohmann::json::value_t::boolean:
      return mstch::data(value.get<bool>());
    case nlohmann::json::value_t::null:
      return mstch::data(false);
    default:
      return mstch::data(value.dump());  // numbers
  }
}

// One line for a Subject header: whatever the variables held, no line break survives (C0 and C1 controls,
// DEL, U+2028 and U+2029 become spaces).
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    auto u = static_cast<unsigned char>(c);
    auto next = [&](std::size_t k) { return i + k < text.size() ? static_cast<unsigned char>(text[i + k]) : 0; };
    std::size_t skip = 0;
    if (u == 0xc2 && next(1) >= 0x80 && next(1) <= 0x9f) skip = 1;
    if (u == 0xe2 && next(1) == 0x80 && (next(2) == 0xa8 || next(2) == 0xa9)) skip = 2;
    if (u < 0x20 || u == 0x7f || c == ' ' || skip > 0) {
      i += skip;
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string Identity(const std::string& s) { return s; }

}  // namespace

std::optional<TemplateSyntaxError> FindSyntaxError(std::string_view source) {
  return ScanTags(source, [](const Tag&, const std::vector<Tag>&) {});
}

struct CompiledTemplate::Impl {
  // render() is not const in kainjow, but it only writes its error message, which it does for partials and
  // lambdas alone: the scan refuses partials and JSON data holds no lambdas, so concurrent renders only read.
  mutable mstch::mustache subject;
  mutable mstch::mustache html;
  mutable mstch::mustache text;
  std::optional<mstch::mustache> derived_text;  // CompileForSending: the text template derived from the HTML
  // What Render runs instead of kainjow, each part that allows it (kainjow renders the others).
  std::optional<Program> subject_program;
  std::optional<Program> html_program;
  std::optional<Program> text_program;
  std::optional<Program> derived_program;
  std::vector<bool> line_starts_with_tag;  // of derived_text, per line
  bool derive_per_message = false;         // CompileForSending without a derivable template
  std::vector<TemplateVariable> variables;
  std::vector<std::string> required;
  // The sizes of the sources: what a render reserves for each part (values usually add little).
  std::size_t subject_size = 0;
  std::size_t html_size = 0;
  std::size_t text_size = 0;

  explicit Impl(const TemplateSource& s)
      : subject(s.subject),
        html(s.html),
        text(s.text),
        subject_size(s.subject.size()),
        html_size(s.html.size()),
        text_size(s.text.size()) {
    subject.set_custom_escape(Identity);
    text.set_custom_escape(Identity);
    if (subject.is_valid()) subject_program = Program::Parse(s.subject);
    if (html.is_valid()) html_program = Program::Parse(s.html);
    if (text.is_valid()) text_program = Program::Parse(s.text);
  }
};

CompiledTemplate::CompiledTemplate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CompiledTemplate::CompiledTemplate(CompiledTemplate&&) noexcept = default;
CompiledTemplate& CompiledTemplate::operator=(CompiledTemplate&&) noexcept = default;
CompiledTemplate::~CompiledTemplate() = default;

CompiledTemplate CompiledTemplate::Compile(const TemplateSource& source) {
  std::vector<FieldError> errors;
  std::vector<TemplateVariable> variables;
  std::vector<std::string> required;
  // Sets beside the lists: a 1 MiB template may hold 100,000 tags.
  std::unordered_set<std::string> seen_variables;
  std::unordered_set<std::string> seen_required;
  auto scan = [&](std::string_view part, std::string_view text) {
    if (text.size() > kMaxTemplateBytes) {
      errors.push_back({std::string(part), "too_long", "The template is larger than 1 MiB."});
      return;
    }
    if (part == "subject" && text.find_first_of("\r\n") != std::string_view::npos) {
      errors.push_back({std::string(part), "header_injection", "A subject is one line."});
      return;
    }
    auto error = ScanTags(text, [&](const Tag& tag, const std::vector<Tag>& open) {
      if (tag.type == TagType::kComment || tag.type == TagType::kDelimiter || tag.name.empty() || tag.name == ".") {
        return;
      }
      TemplateVariable v;
      v.name = tag.name;
      v.kind = tag.type == TagType::kSection    ? VariableKind::kSection
               : tag.type == TagType::kInverted ? VariableKind::kInvertedSection
                                                : VariableKind::kVariable;
      for (const auto& o : open) v.section += (v.section.empty() ? "" : "/") + o.name;
      v.part = std::string(part);
      if (v.kind == VariableKind::kVariable && open.empty() && seen_required.insert(v.name).second) {
        required.push_back(v.name);
      }
      std::string key = std::to_string(static_cast<int>(v.kind)) + '\n' + v.part + '\n' + v.section + '\n' + v.name;
      if (seen_variables.insert(std::move(key)).second) variables.push_back(std::move(v));
    });
    if (error) {
      errors.push_back({std::string(part), "template_syntax",
                        "line " + std::to_string(error->line) + ", column " + std::to_string(error->column) + ": " +
                            error->message});
    }
  };
  scan("subject", source.subject);
  scan("html", source.html);
  scan("text", source.text);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));

  auto impl = std::make_unique<Impl>(source);
  for (auto [part, m, text] : {std::tuple{"subject", &impl->subject, std::string_view(source.subject)},
                               std::tuple{"html", &impl->html, std::string_view(source.html)},
                               std::tuple{"text", &impl->text, std::string_view(source.text)}}) {
    if (!m->is_valid()) {
      auto error = FromKainjow(text, m->error_message());
      errors.push_back(
          {part, "template_syntax",
           "line " + std::to_string(error.line) + ", column " + std::to_string(error.column) + ": " + error.message});
    }
  }
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  impl->variables = std::move(variables);
  impl->required = std::move(required);
  return CompiledTemplate(std::move(impl));
}

namespace {

// Whether every tag of `html` is a plain {{variable}} outside the sections, in the document's text: not in
// a tag's markup (attributes), a comment, or the raw text of <head>, <title>, <style>, <script>.
bool TagsAreInText(std::string_view html) {
  std::vector<std::size_t> offsets;
  bool plain = true;
  const auto error = ScanTags(html, [&](const Tag& tag, const std::vector<Tag>& open) {
    if (tag.type != TagType::kVariable || !open.empty()) plain = false;
    offsets.push_back(tag.offset);
  });
  if (error || !plain) return false;
  const std::string lower = validate::ascii::ToLower(html);
  for (const char* raw : {"head", "title", "style", "script", "textarea"}) {
    for (std::size_t at = lower.find(std::string("<") + raw); at != std::string::npos;
         at = lower.find(std::string("<") + raw, at + 1)) {
      const auto close = lower.find(std::string("</") + raw, at);
      for (auto o : offsets) {
        if (o > at && (close == std::string::npos || o < close)) return false;
      }
    }
  }
  for (auto o : offsets) {
    const auto lt = html.rfind('<', o), gt = html.rfind('>', o);
    if (lt != std::string_view::npos && (gt == std::string_view::npos || gt < lt)) return false;  // in a tag
    const auto comment = lower.rfind("<!--", o);
    if (comment != std::string::npos && lower.find("-->", comment) > o) return false;
  }
  return true;
}

std::size_t CountOf(std::string_view text, std::string_view what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string_view::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

CompiledTemplate CompiledTemplate::CompileForSending(const TemplateSource& source) {
  CompiledTemplate compiled = Compile(source);
  if (!source.text.empty() || source.html.empty()) return compiled;
  compiled.impl_->derive_per_message = true;
  if (!TagsAreInText(source.html)) return compiled;
  // The conversion must carry every tag through unchanged (it could wrap a line inside "{{ a }}").
  std::string text = HtmlToText(source.html);
  if (CountOf(text, "{{") != CountOf(source.html, "{{") || CountOf(text, "}}") != CountOf(source.html, "}}")) {
    return compiled;
  }
  mstch::mustache derived(text);
  if (!derived.is_valid()) return compiled;
  derived.set_custom_escape(CollapseWhitespace);
  compiled.impl_->derived_text.emplace(std::move(derived));
  compiled.impl_->derived_program = Program::Parse(text);
  for (std::size_t start = 0; start < text.size();) {
    const auto eol = std::min(text.find('\n', start), text.size());
    compiled.impl_->line_starts_with_tag.push_back(text.compare(start, 2, "{{") == 0);
    start = eol + 1;
  }
  compiled.impl_->derive_per_message = false;
  return compiled;
}

const std::vector<TemplateVariable>& CompiledTemplate::Variables() const { return impl_->variables; }

std::vector<std::string> CompiledTemplate::MissingVariables(const nlohmann::json& variables) const {
  std::vector<std::string> missing;
  for (const auto& name : impl_->required) {
    const nlohmann::json* node = &variables;
    std::string_view rest = name;
    while (node != nullptr) {
      auto dot = rest.find('.');
      std::string key(rest.substr(0, dot));
      if (!node->is_object()) {
        node = nullptr;
        break;
      }
      auto it = node->find(key);
      node = it == node->end() || it->is_null() ? nullptr : &*it;
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    if (node == nullptr) missing.push_back(name);
  }
  return missing;
}

RenderedMessage CompiledTemplate::Render(const nlohmann::json& variables) const {
  if (!variables.is_null() && !variables.is_object()) {
    throw AppError::Validation({{"variables", "invalid_type", "The variables must be a JSON object."}});
  }
  if (!variables.is_null()) CheckDepth(variables, 0);
  std::optional<mstch::data> data;  // kainjow's copy of the variables: only for a part without a program
  auto render = [&](const std::optional<Program>& program, mstch::mustache& m, Escape escape, std::string& into) {
    if (program) {
      program->Render(variables, escape, into);
      return;
    }
    if (!data) data.emplace(variables.is_null() ? mstch::data(mstch::data::type::object) : ToData(variables, 0));
    m.render(*data, [&into](const std::string& piece) { into += piece; });
  };
  RenderedMessage out;
  auto reserve = [](std::string& s, std::size_t size) { s.reserve(size + size / 4 + 64); };
  std::string subject;
  reserve(subject, impl_->subject_size);
  render(impl_->subject_program, impl_->subject, Escape::kNone, subject);
  out.subject = OneLine(subject);
  reserve(out.html, impl_->html_size);
  render(impl_->html_program, impl_->html, Escape::kHtml, out.html);
  if (impl_->derived_text) {
    // Values keep one space for each run of whitespace, as the HTML shows them; at a line's start or end the
    // conversion drops that space, and so is it dropped here (values hold no line breaks any more).
    std::string text;
    reserve(text, impl_->html_size);
    render(impl_->derived_program, *impl_->derived_text, Escape::kCollapse, text);
    reserve(out.text, text.size());
    std::size_t line = 0;
    for (std::size_t start = 0; start < text.size(); ++line) {
      const auto eol = std::min(text.find('\n', start), text.size());
      std::string_view l(text.data() + start, eol - start);
      if (line < impl_->line_starts_with_tag.size() && impl_->line_starts_with_tag[line]) {
        while (!l.empty() && l.front() == ' ') l.remove_prefix(1);
      }
      while (!l.empty() && l.back() == ' ') l.remove_suffix(1);
      out.text.append(l);
      if (eol < text.size()) out.text.push_back('\n');
      start = eol + 1;
    }
  } else if (impl_->derive_per_message) {
    out.text = HtmlToText(out.html);
  } else {
    reserve(out.text, impl_->text_size);
    render(impl_->text_program, impl_->text, Escape::kNone, out.text);
  }
  return out;
}

}  // namespace poste::mail
