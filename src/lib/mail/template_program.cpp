#include "lib/mail/template_program.hpp"

#include <charconv>

#include "lib/error.hpp"
#include "lib/mail/template.hpp"

namespace poste::mail::detail {

std::string CollapseWhitespace(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  if (space && !out.empty()) out.push_back(' ');
  return out;
}

void CheckDepth(const nlohmann::json& value, std::size_t depth) {
  if (depth > kMaxVariableDepth) {
    throw AppError::Validation({{"variables", "too_deep", "The variables are nested too deeply."}});
  }
  if (value.is_object() || value.is_array()) {
    for (const auto& item : value) CheckDepth(item, depth + 1);
  }
}

namespace {

// kainjow's trim: std::isspace in the C locale.
std::string_view TrimTag(std::string_view s) {
  auto space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<Program> Program::Parse(std::string_view src) {
  Program p;
  std::vector<std::size_t> open;              // the sections' nodes
  std::size_t text = std::string_view::npos;  // where the text not yet added starts
  auto flush = [&](std::size_t at) {
    if (text == std::string_view::npos) return;
    Node node;
    node.begin = p.texts_.size();
    node.size = at - text;
    p.texts_.append(src.substr(text, at - text));
    p.nodes_.push_back(node);
    text = std::string_view::npos;
  };
  auto name_of = [&](std::string_view tag) {
    Name name;
    name.key = std::string(tag);
    name.dot = tag == ".";
    name.path = !name.dot && tag.find('.') != std::string_view::npos;
    for (std::size_t start = 0; name.path && start < tag.size();) {
      const auto dot = std::min(tag.find('.', start), tag.size());
      name.parts.emplace_back(tag.substr(start, dot - start));
      start = dot + 1;
    }
    p.names_.push_back(std::move(name));
    return p.names_.size() - 1;
  };
  for (std::size_t pos = 0; pos < src.size();) {
    if (src.compare(pos, 2, "{{") != 0) {
      const std::size_t line_end = src.compare(pos, 2, "\r\n") == 0 ? 2 : src[pos] == '\n' || src[pos] == '\r' ? 1 : 0;
      if (line_end == 0) {  // text, spaces and tabs alike: appended to the line
        if (text == std::string_view::npos) text = pos;
        ++pos;
        continue;
      }
      flush(pos);
      Node node;
      node.kind = Kind::kLineEnd;
      node.begin = p.texts_.size();
      node.size = line_end;
      p.texts_.append(src.substr(pos, line_end));
      p.nodes_.push_back(node);
      pos += line_end;
      continue;
    }
    flush(pos);
    // A tag, read as kainjow reads it with the default delimiters.
    std::size_t contents = pos + 2;
    const bool triple = pos != src.size() - 2 && src[contents] == '{';
    if (triple) ++contents;
    const std::string_view closing = triple ? "}}}" : "}}";
    const std::size_t stop = src.find(closing, contents);
    if (stop == std::string_view::npos) return std::nullopt;
    const std::string_view body = TrimTag(src.substr(contents, stop - contents));
    pos = stop + closing.size();
    if (!body.empty() && body.front() == '=') return std::nullopt;  // set-delimiter: kainjow renders it
    Node node;
    if (triple || (!body.empty() && body.front() == '&')) {
      node.kind = Kind::kVariable;
      node.name = name_of(triple ? body : TrimTag(body.substr(1)));
    } else if (body.empty() || std::string_view("#^/>!").find(body.front()) == std::string_view::npos) {
      node.kind = Kind::kVariable;
      node.escaped = true;
      node.name = name_of(body);
    } else if (body.front() == '#' || body.front() == '^') {
      node.kind = body.front() == '#' ? Kind::kSection : Kind::kInverted;
      node.name = name_of(TrimTag(body.substr(1)));
      open.push_back(p.nodes_.size());
    } else if (body.front() == '/') {
      if (open.empty() || p.names_[p.nodes_[open.back()].name].key != TrimTag(body.substr(1))) return std::nullopt;
      p.nodes_[open.back()].end = p.nodes_.size();
      open.pop_back();
      continue;
    } else if (body.front() == '!') {
      continue;  // a comment
    } else {
      return std::nullopt;  // a partial: refused by Compile
    }
    p.nodes_.push_back(node);
  }
  flush(src.size());
  if (!open.empty()) return std::nullopt;
  return p;
}

const nlohmann::json* Program::Lookup(const State& state, const Name& name) const {
  if (name.dot) return state.stack.back();
  for (auto it = state.stack.rbegin(); it != state.stack.rend(); ++it) {
    const nlohmann::json* value = *it;
    if (!name.path) {
      if (!value->is_object()) continue;
      const auto found = value->find(name.key);
      if (found != value->end()) return &*found;
      continue;
    }
    for (const auto& part : name.parts) {
      if (!value->is_object()) {
        value = nullptr;
        break;
      }
      const auto found = value->find(part);
      value = found == value->end() ? nullptr : &*found;
      if (value == nullptr) break;
    }
    if (value != nullptr) return value;
  }
  return nullptr;
}

// At a line end (or the end, with no line end): the line is dropped, its line end with it, when it held a
// rendered section's tag and is otherwise empty or blank (kainjow's line buffer).
void Program::EndLine(State& state, std::string_view line_end, std::string& out) {
  const bool blank = out.find_first_not_of(" \t", state.line_start) == std::string::npos;
  if (state.section_tag && blank) {
    out.resize(state.line_start);
  } else {
    out.append(line_end);
  }
  state.line_start = out.size();
  state.section_tag = false;
}

void Program::Section(const nlohmann::json* value, std::size_t begin, std::size_t end, State& state, Escape escape,
                      std::string& out) const {
  if (value != nullptr && value->is_array() && !value->empty()) {
    for (const auto& item : *value) {
      state.section_tag = true;
      state.stack.push_back(&item);
      Run(begin, end, state, escape, out);
      state.stack.pop_back();
      state.section_tag = true;
    }
    return;
  }
  state.section_tag = true;
  if (value != nullptr) state.stack.push_back(value);
  Run(begin, end, state, escape, out);
  if (value != nullptr) state.stack.pop_back();
  state.section_tag = true;
}

void Program::Run(std::size_t begin, std::size_t end, State& state, Escape escape, std::string& out) const {
  // kainjow's values: JSON null is false, numbers are the text JSON writes for them.
  auto falsy = [](const nlohmann::json* v) {
    return v->is_null() || (v->is_boolean() && !v->get<bool>()) || (v->is_array() && v->empty());
  };
  for (std::size_t i = begin; i < end; ++i) {
    const Node& node = nodes_[i];
    switch (node.kind) {
      case Kind::kText:
        out.append(texts_, node.begin, node.size);
        break;
      case Kind::kLineEnd:
        EndLine(state, std::string_view(texts_).substr(node.begin, node.size), out);
        break;
      case Kind::kVariable: {
        const nlohmann::json* value = Lookup(state, names_[node.name]);
        if (value == nullptr || value->is_object() || value->is_array() || value->is_boolean() || value->is_null()) {
          break;  // kainjow writes strings only (numbers are strings to it)
        }
        std::string number;
        const std::string& text = value->is_string() ? value->get_ref<const std::string&>() : (number = value->dump());
        if (!node.escaped || escape == Escape::kNone) {
          out.append(text);
        } else if (escape == Escape::kCollapse) {
          out.append(CollapseWhitespace(text));
        } else {
          for (char c : text) {
            switch (c) {
              case '&':
                out.append("&amp;");
                break;
              case '<':
                out.append("&lt;");
                break;
              case '>':
                out.append("&gt;");
                break;
              case '"':
                out.append("&quot;");
                break;
              case '\'':
                out.append("&apos;");
                break;
              default:
                out.push_back(c);
            }
          }
        }
        break;
      }
      case Kind::kSection:
      case Kind::kInverted: {
        const nlohmann::json* value = Lookup(state, names_[node.name]);
        const bool shown =
            node.kind == Kind::kSection ? value != nullptr && !falsy(value) : value == nullptr || falsy(value);
        if (shown) Section(value, i + 1, node.end, state, escape, out);
        i = node.end - 1;
        break;
      }
    }
  }
}

void Program::Render(const nlohmann::json& root, Escape escape, std::string& out) const {
  static const nlohmann::json kEmpty = nlohmann::json::object();
  State state;
  state.stack.push_back(root.is_null() ? &kEmpty : &root);
  state.line_start = out.size();
  Run(0, nodes_.size(), state, escape, out);
  EndLine(state, {}, out);
}

}  // namespace poste::mail::detail
