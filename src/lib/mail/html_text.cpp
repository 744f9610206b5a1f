#include "lib/mail/html_text.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include "lib/mail/entities.hpp"
#include "lib/mail/html_scan.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;

constexpr std::size_t kMaxOpen = 64;  // elements tracked for lists, quotes and links: bounds the work per tag
constexpr std::size_t kMaxLinkText = 2048;
constexpr std::size_t kMaxIndent = 8;  // levels of indentation shown

std::size_t Width(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

struct Open {
  std::string name;
  std::string href;
  int counter = 0;         // items so far in an <ol>
  std::size_t indent = 0;  // width of an <li>'s marker
};

bool IsAny(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

class Converter {
 public:
  std::string Run(std::string_view html);

 private:
  void Tag(const HtmlTag& tag);
  void Text(std::string_view text);
  void PreText(std::string_view text);
  void Word(std::string_view word);
  void FlushWord();
  void Break(int lines) {
    FlushWord();
    Pending(lines);
  }
  // Line ends wanted before the next text; a blank line among them gets the quotes that all the blocks
  // closed and opened since the last text share.
  void Pending(int lines) {
    std::size_t quotes = std::min(quotes_, kMaxIndent);
    if (pending_ == 0 || quotes < blank_quotes_) blank_quotes_ = quotes;
    pending_ = std::max(pending_, lines);
  }
  void Push(Open open);
  void PopTo(std::size_t size);
  void StartLine();
  void EndLine();
  std::string Prefix(bool blank = false);
  bool ListIsNested() const;
  void Close(std::string_view name);
  bool InPre() const { return pres_ > 0; }

  std::string out_;
  std::string line_;
  std::size_t width_ = 0;
  bool content_ = false;  // the current line holds text beyond its prefix
  int pending_ = 0;       // line ends wanted before the next text: 1 a new line, 2 a blank line
  int trailing_ = 0;      // line ends at the end of out_
  bool space_ = false;    // a space is due before the next word
  std::string word_;
  std::string marker_;            // the "- " or "3. " of a list item whose first line has not started
  std::size_t blank_quotes_ = 0;  // the quotes a pending blank line shows
  std::vector<Open> open_;
  std::vector<std::string> link_texts_;  // of the open <a> elements, innermost last
  std::size_t quotes_ = 0;               // open <blockquote>, <li> and <pre> elements
  std::size_t items_ = 0;
  std::size_t pres_ = 0;
};

// The start of a line: "> " per quote, and per list item its marker on its first line, spaces after. A
// blank line keeps only the quotes.
std::string Converter::Prefix(bool blank) {
  std::string prefix;
  std::size_t levels = 0;
  std::size_t last_item = open_.size();
  for (std::size_t i = 0; i < open_.size(); ++i) {
    if (open_[i].name == "li") last_item = i;
  }
  for (std::size_t i = 0; i < open_.size() && levels < kMaxIndent; ++i) {
    if (open_[i].name == "blockquote") {
      prefix += "> ";
      ++levels;
    } else if (open_[i].name == "li" && !blank) {
      prefix += (i == last_item && !marker_.empty()) ? marker_ : std::string(open_[i].indent, ' ');
      ++levels;
    }
  }
  if (blank) return prefix;
  if (levels >= kMaxIndent && !marker_.empty()) prefix += marker_;
  marker_.clear();
  return prefix;
}

bool Converter::ListIsNested() const {
  for (std::size_t i = open_.size(); i-- > 0;) {
    if (open_[i].name == "ul" || open_[i].name == "ol") {
      return std::any_of(open_.begin(), open_.begin() + static_cast<std::ptrdiff_t>(i),
                         [](const Open& o) { return o.name == "li"; });
    }
  }
  return false;
}

void Converter::StartLine() {
  if (content_ && pending_ > 0) EndLine();
  if (!out_.empty()) {
    while (trailing_ > 0 && trailing_ < pending_) {
      std::string blank;
      for (std::size_t q = 0; q < blank_quotes_; ++q) blank += q + 1 < blank_quotes_ ? "> " : ">";
      out_ += blank + "\n";
      ++trailing_;
    }
  }
  pending_ = 0;
  if (!content_ && line_.empty()) {
    line_ = Prefix();
    width_ = Width(line_);
  }
}

void Converter::EndLine() {
  while (!line_.empty() && line_.back() == ' ') line_.pop_back();
  out_ += line_ + "\n";
  line_.clear();
  width_ = 0;
  content_ = false;
  trailing_ = 1;
}

void Converter::Word(std::string_view word) {
  if (word.empty()) return;
  if (pending_ > 0 || (!content_ && line_.empty())) {
    StartLine();
    space_ = false;
  }
  std::size_t w = Width(word);
  if (content_ && width_ + (space_ ? 1 : 0) + w > kTextWidth) {
    EndLine();
    line_ = Prefix();
    width_ = Width(line_);
    space_ = false;
  }
  if (space_ && content_) {
    line_ += ' ';
    ++width_;
  }
  line_ += word;
  width_ += w;
  content_ = true;
  trailing_ = 0;
  space_ = false;
  // Only compared with the link's URL: the innermost link's text, and no more than a URL could match.
  if (!link_texts_.empty() && link_texts_.back().size() <= kMaxLinkText) {
    if (!link_texts_.back().empty()) link_texts_.back() += ' ';
    link_texts_.back() += word;
  }
}

void Converter::FlushWord() {
  if (word_.empty()) return;
  std::string word = std::move(word_);
  word_.clear();
  // A no-break space keeps words together for wrapping and is written as a plain space.
  for (auto p = word.find("\xC2\xA0"); p != std::string::npos; p = word.find("\xC2\xA0", p)) word.replace(p, 2, " ");
  Word(word);
}

void Converter::Text(std::string_view text) {
  if (InPre()) return PreText(text);
  std::string decoded = DecodeEntities(text);
  for (char c : decoded) {
    auto u = static_cast<unsigned char>(c);
    if (ascii::IsSpace(c)) {
      FlushWord();
      space_ = true;
    } else if (u >= 0x20 && u != 0x7f) {
      word_.push_back(c);
    }
  }
}

void Converter::PreText(std::string_view text) {
  FlushWord();
  std::string decoded = DecodeEntities(text);
  for (char c : decoded) {
    if (c == '\n') {
      if (pending_ > 0 || line_.empty()) StartLine();
      EndLine();
      content_ = false;
      continue;
    }
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) continue;
    if (pending_ > 0 || (!content_ && line_.empty())) StartLine();
    line_.push_back(c);
    content_ = true;
    trailing_ = 0;
  }
}

void Converter::Push(Open open) {
  if (open.name == "blockquote") ++quotes_;
  if (open.name == "li") ++items_;
  if (open.name == "pre") ++pres_;
  if (open.name == "a") link_texts_.emplace_back();
  open_.push_back(std::move(open));
}

void Converter::PopTo(std::size_t size) {
  while (open_.size() > size) {
    const std::string& name = open_.back().name;
    if (name == "blockquote") --quotes_;
    if (name == "li") --items_;
    if (name == "pre") --pres_;
    if (name == "a") link_texts_.pop_back();
    open_.pop_back();
  }
}

void Converter::Close(std::string_view name) {
  for (std::size_t i = open_.size(); i-- > 0;) {
    if (open_[i].name != name) continue;
    if (name == "a") {
      FlushWord();
      std::string href = open_[i].href;
      std::string text = link_texts_.empty() ? std::string() : link_texts_.back();
      PopTo(i);
      std::string_view shown = std::string_view(href).substr(IEquals(href.substr(0, 7), "mailto:") ? 7 : 0);
      if (!href.empty() && text != href && text != shown) {
        space_ = true;
        Word(text.empty() ? std::string(shown) : "(" + std::string(shown) + ")");
      }
      return;
    }
    PopTo(i);
    return;
  }
}

void Converter::Tag(const HtmlTag& tag) {
  const std::string& n = tag.name;
  bool paragraph = IsAny(
      n, {"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote", "pre", "hr", "dl", "figure", "ul", "ol"});
  bool block =
      paragraph || IsAny(n, {"div",        "li",       "tr",      "section", "article", "header", "footer", "nav",
                             "main",       "aside",    "address", "center",  "form",    "dt",     "dd",     "body",
                             "figcaption", "fieldset", "caption", "tbody",   "thead",   "tfoot"});
  if (tag.closing) {
    if (n == "td" || n == "th") {
      FlushWord();
      space_ = true;
    }
    FlushWord();  // the last word still belongs inside the element
    bool nested_list = (n == "ul" || n == "ol") && ListIsNested();
    if (IsAny(n, {"a", "ul", "ol", "li", "blockquote", "pre"})) Close(n);
    if (block) Break(paragraph && !nested_list ? 2 : 1);
    return;
  }
  if (n == "br") {
    FlushWord();
    if (content_) {
      EndLine();
      Pending(1);
    } else {
      Pending(std::min(2, std::max(pending_, trailing_) + 1));
    }
    return;
  }
  if (n == "img") {
    if (!tag.alt.empty()) Text(tag.alt);
    return;
  }
  if (n == "td" || n == "th") {
    FlushWord();
    space_ = true;
  }
  if (block) {
    bool in_item = items_ > 0;
    Break(paragraph && !((n == "ul" || n == "ol") && in_item) ? 2 : 1);
  }
  if (n == "hr") {
    Word("----------");
    Break(2);
    return;
  }
  if (n == "li") {
    if (!open_.empty() && open_.back().name == "li") PopTo(open_.size() - 1);  // <li> closes the previous one
    std::string marker = "- ";
    for (std::size_t i = open_.size(); i-- > 0;) {
      if (open_[i].name == "ol") marker = std::to_string(++open_[i].counter) + ". ";
      if (open_[i].name == "ol" || open_[i].name == "ul") break;
    }
    marker_ = marker;
    if (open_.size() < kMaxOpen) Push({"li", {}, 0, marker.size()});
    return;
  }
  if (IsAny(n, {"a", "ul", "ol", "blockquote", "pre"}) && open_.size() < kMaxOpen) {
    Open o{n, {}, 0, 0};
    if (n == "a") {
      FlushWord();
      std::string href = std::string(ascii::Trim(tag.href));
      std::string lower = ascii::ToLower(href.substr(0, 11));
      bool unsafe = href.empty() || href.front() == '#' || lower.starts_with("javascript:") ||
                    lower.starts_with("data:") || lower.starts_with("vbscript:");
      if (!unsafe) o.href = href;
    }
    Push(std::move(o));
  }
}

std::string Converter::Run(std::string_view html) {
  std::size_t i = 0;
  while (i < html.size()) {
    auto lt = html.find('<', i);
    Text(html.substr(i, lt == std::string_view::npos ? std::string_view::npos : lt - i));
    if (lt == std::string_view::npos) break;
    i = lt;
    char next = i + 1 < html.size() ? html[i + 1] : '\0';
    if (html.substr(i, 4) == "<!--") {
      auto end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? html.size() : end + 3;
      continue;
    }
    if (next == '!' || next == '?') {
      auto end = html.find('>', i);
      i = end == std::string_view::npos ? html.size() : end + 1;
      continue;
    }
    if (!ascii::IsAlpha(next) && !(next == '/' && i + 2 < html.size() && ascii::IsAlpha(html[i + 2]))) {
      Text("<");  // a stray '<' is text, as browsers show it
      ++i;
      continue;
    }
    HtmlTag tag;
    auto after = ReadHtmlTag(html, i, tag);
    if (after == std::string_view::npos) break;  // an unclosed tag swallows the rest, as in a browser
    i = after;
    if (!tag.closing && IsAny(tag.name, {"script", "style", "title", "template", "xml", "head"})) {
      auto end = FindClosingTag(html, tag.name, i);
      if (end != std::string_view::npos) {
        auto close = html.find('>', end);
        i = close == std::string_view::npos ? html.size() : close + 1;
      } else if (tag.name != "head") {
        i = html.size();  // an unclosed script or style hides everything after it
      }
      continue;
    }
    Tag(tag);
  }
  FlushWord();
  if (content_) EndLine();
  while (out_.ends_with("\n\n")) out_.pop_back();
  return out_;
}

}  // namespace

std::string HtmlToText(std::string_view html) {
  std::string clean = SanitizeUtf8(html);
  return Converter().Run(clean);
}

}  // namespace poste::mail
