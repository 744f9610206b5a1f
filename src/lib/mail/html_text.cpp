#include "lib/mail/html_text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "lib/mail/entities.hpp"
#include "lib/mail/html_scan.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/validate/text.hpp"

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

// The elements the converter treats apart, found with their flags (InfoOf).
enum class Element : unsigned char { kOther, kA, kUl, kOl, kLi, kBlockquote, kPre, kCell, kBr, kImg, kHr };

struct Open {
  Element element = Element::kOther;
  std::string href;
  int counter = 0;         // items so far in an <ol>
  std::size_t indent = 0;  // width of an <li>'s marker
};

// What the converter does with an element, looked up once per tag (InfoOf).
enum TagFlag : unsigned {
  kParagraph = 1,  // a block set off by blank lines
  kBlock = 2,      // a block on lines of its own (paragraphs too)
  kRawText = 4,    // its content is not shown
  kTracked = 8,    // kept on the open-element stack: links, lists, list items, quotes, pre
};

// A name's length and first seven bytes as one number: the lookup compares numbers, then one name.
constexpr std::uint64_t KeyOf(std::string_view name) {
  std::uint64_t key = name.size() & 0xff;
  for (std::size_t i = 0; i < 7 && i < name.size(); ++i) {
    key |= std::uint64_t{static_cast<unsigned char>(name[i])} << (8 * (i + 1));
  }
  return key;
}

struct TagEntry {
  std::uint64_t key;
  std::string_view name;
  unsigned flags;
  Element element = Element::kOther;
};

struct TagInfo {
  unsigned flags = 0;
  Element element = Element::kOther;
};

TagInfo InfoOf(std::string_view name) {
  constexpr unsigned kPara = kParagraph | kBlock;
  static constexpr auto kTags = [] {
    std::array<TagEntry, 48> tags = {{
        {0, "a", kTracked, Element::kA},
        {0, "address", kBlock},
        {0, "article", kBlock},
        {0, "aside", kBlock},
        {0, "blockquote", kPara | kTracked, Element::kBlockquote},
        {0, "body", kBlock},
        {0, "br", 0, Element::kBr},
        {0, "caption", kBlock},
        {0, "center", kBlock},
        {0, "dd", kBlock},
        {0, "div", kBlock},
        {0, "dl", kPara},
        {0, "dt", kBlock},
        {0, "fieldset", kBlock},
        {0, "figcaption", kBlock},
        {0, "figure", kPara},
        {0, "footer", kBlock},
        {0, "form", kBlock},
        {0, "h1", kPara},
        {0, "h2", kPara},
        {0, "h3", kPara},
        {0, "h4", kPara},
        {0, "h5", kPara},
        {0, "h6", kPara},
        {0, "head", kRawText},
        {0, "header", kBlock},
        {0, "hr", kPara, Element::kHr},
        {0, "img", 0, Element::kImg},
        {0, "li", kBlock | kTracked, Element::kLi},
        {0, "main", kBlock},
        {0, "nav", kBlock},
        {0, "ol", kPara | kTracked, Element::kOl},
        {0, "p", kPara},
        {0, "pre", kPara | kTracked, Element::kPre},
        {0, "script", kRawText},
        {0, "section", kBlock},
        {0, "style", kRawText},
        {0, "table", kPara},
        {0, "tbody", kBlock},
        {0, "td", 0, Element::kCell},
        {0, "template", kRawText},
        {0, "tfoot", kBlock},
        {0, "th", 0, Element::kCell},
        {0, "thead", kBlock},
        {0, "title", kRawText},
        {0, "tr", kBlock},
        {0, "ul", kPara | kTracked, Element::kUl},
        {0, "xml", kRawText},
    }};
    for (auto& t : tags) t.key = KeyOf(t.name);
    std::sort(tags.begin(), tags.end(), [](const TagEntry& a, const TagEntry& b) { return a.key < b.key; });
    return tags;
  }();
  static_assert(std::adjacent_find(kTags.begin(), kTags.end(),
                                   [](const TagEntry& a, const TagEntry& b) { return a.key == b.key; }) == kTags.end(),
                "each name has its own key");
  const std::uint64_t key = KeyOf(name);
  const auto it =
      std::lower_bound(kTags.begin(), kTags.end(), key, [](const TagEntry& e, std::uint64_t k) { return e.key < k; });
  if (it == kTags.end() || it->key != key || it->name != name) return {};
  return {it->flags, it->element};
}

class Converter {
 public:
  std::string Run(std::string_view html);

 private:
  void Tag(const HtmlTag& tag, TagInfo info);
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
  void Close(Element element);
  bool InPre() const { return pres_ > 0; }

  std::string out_;
  std::string line_;
  std::size_t width_ = 0;
  bool content_ = false;  // the current line holds text beyond its prefix
  int pending_ = 0;       // line ends wanted before the next text: 1 a new line, 2 a blank line
  int trailing_ = 0;      // line ends at the end of out_
  bool space_ = false;    // a space is due before the next word
  std::string word_;
  bool word_has_c2_ = false;      // word_ may hold a no-break space (C2 A0)
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
    if (open_[i].element == Element::kLi) last_item = i;
  }
  for (std::size_t i = 0; i < open_.size() && levels < kMaxIndent; ++i) {
    if (open_[i].element == Element::kBlockquote) {
      prefix += "> ";
      ++levels;
    } else if (open_[i].element == Element::kLi && !blank) {
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
    if (open_[i].element == Element::kUl || open_[i].element == Element::kOl) {
      return std::any_of(open_.begin(), open_.begin() + static_cast<std::ptrdiff_t>(i),
                         [](const Open& o) { return o.element == Element::kLi; });
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
  out_ += line_;
  out_ += '\n';
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
  // A no-break space keeps words together for wrapping and is written as a plain space.
  if (word_has_c2_) {
    for (auto p = word_.find("\xC2\xA0"); p != std::string::npos; p = word_.find("\xC2\xA0", p)) {
      word_.replace(p, 2, " ");
    }
  }
  Word(word_);  // Word does not touch word_
  word_.clear();
  word_has_c2_ = false;
}

void Converter::Text(std::string_view text) {
  if (InPre()) return PreText(text);
  std::string decoded;
  if (text.find('&') != std::string_view::npos) {
    decoded = DecodeEntities(text);
    text = decoded;
  }
  // What each byte is to a word: a space ends it, a control is dropped, C2 may start a no-break space.
  enum : unsigned char { kWord, kSpace, kControl, kC2 };
  static constexpr auto kClass = [] {
    std::array<unsigned char, 256> classes{};
    for (int c = 0; c < 0x20; ++c) classes[c] = kControl;
    classes[0x7f] = kControl;
    for (char c : {' ', '\t', '\n', '\r', '\f', '\v'}) classes[static_cast<unsigned char>(c)] = kSpace;
    classes[0xc2] = kC2;
    return classes;
  }();
  for (std::size_t i = 0; i < text.size();) {
    if (kClass[static_cast<unsigned char>(text[i])] == kSpace) {
      FlushWord();
      space_ = true;
      ++i;
      continue;
    }
    // A run of the word's characters, without the controls: appended at once.
    std::size_t end = i;
    bool plain = true;  // no control, no C2
    for (unsigned char kind; end < text.size() && (kind = kClass[static_cast<unsigned char>(text[end])]) != kSpace;
         ++end) {
      plain = plain && kind == kWord;
    }
    if (plain && word_.empty() && end < text.size()) {
      Word(text.substr(i, end - i));  // a whole word: what FlushWord would write at the space after it
    } else if (plain) {
      word_.append(text.substr(i, end - i));
    } else {
      for (; i < end; ++i) {
        const unsigned char kind = kClass[static_cast<unsigned char>(text[i])];
        if (kind == kControl) continue;
        word_has_c2_ = word_has_c2_ || kind == kC2;
        word_.push_back(text[i]);
      }
    }
    i = end;
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
  if (open.element == Element::kBlockquote) ++quotes_;
  if (open.element == Element::kLi) ++items_;
  if (open.element == Element::kPre) ++pres_;
  if (open.element == Element::kA) link_texts_.emplace_back();
  open_.push_back(std::move(open));
}

void Converter::PopTo(std::size_t size) {
  while (open_.size() > size) {
    const Element element = open_.back().element;
    if (element == Element::kBlockquote) --quotes_;
    if (element == Element::kLi) --items_;
    if (element == Element::kPre) --pres_;
    if (element == Element::kA) link_texts_.pop_back();
    open_.pop_back();
  }
}

void Converter::Close(Element element) {
  for (std::size_t i = open_.size(); i-- > 0;) {
    if (open_[i].element != element) continue;
    if (element == Element::kA) {
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

void Converter::Tag(const HtmlTag& tag, TagInfo info) {
  const Element e = info.element;
  const bool paragraph = (info.flags & kParagraph) != 0;
  const bool block = (info.flags & kBlock) != 0;
  const bool list = e == Element::kUl || e == Element::kOl;
  if (tag.closing) {
    if (e == Element::kCell) {
      FlushWord();
      space_ = true;
    }
    FlushWord();  // the last word still belongs inside the element
    bool nested_list = list && ListIsNested();
    if (info.flags & kTracked) Close(e);
    if (block) Break(paragraph && !nested_list ? 2 : 1);
    return;
  }
  if (e == Element::kBr) {
    FlushWord();
    if (content_) {
      EndLine();
      Pending(1);
    } else {
      Pending(std::min(2, std::max(pending_, trailing_) + 1));
    }
    return;
  }
  if (e == Element::kImg) {
    if (!tag.alt.empty()) Text(tag.alt);
    return;
  }
  if (e == Element::kCell) {
    FlushWord();
    space_ = true;
  }
  if (block) {
    bool in_item = items_ > 0;
    Break(paragraph && !(list && in_item) ? 2 : 1);
  }
  if (e == Element::kHr) {
    Word("----------");
    Break(2);
    return;
  }
  if (e == Element::kLi) {
    if (!open_.empty() && open_.back().element == Element::kLi) {
      PopTo(open_.size() - 1);  // <li> closes the previous one
    }
    std::string marker = "- ";
    for (std::size_t i = open_.size(); i-- > 0;) {
      if (open_[i].element == Element::kOl) marker = std::to_string(++open_[i].counter) + ". ";
      if (open_[i].element == Element::kOl || open_[i].element == Element::kUl) break;
    }
    marker_ = marker;
    if (open_.size() < kMaxOpen) Push({Element::kLi, {}, 0, marker.size()});
    return;
  }
  if ((info.flags & kTracked) && open_.size() < kMaxOpen) {  // <li> returned above
    Open o{e, {}, 0, 0};
    if (e == Element::kA) {
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
    if (next == '!' && html.substr(i, 4) == "<!--") {
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
    const TagInfo info = InfoOf(tag.name);
    if (!tag.closing && (info.flags & kRawText)) {
      auto end = FindClosingTag(html, tag.name, i);
      if (end != std::string_view::npos) {
        auto close = html.find('>', end);
        i = close == std::string_view::npos ? html.size() : close + 1;
      } else if (tag.name != "head") {
        i = html.size();  // an unclosed script or style hides everything after it
      }
      continue;
    }
    Tag(tag, info);
  }
  FlushWord();
  if (content_) EndLine();
  while (out_.ends_with("\n\n")) out_.pop_back();
  return out_;
}

}  // namespace

std::string HtmlToText(std::string_view html) {
  if (validate::IsValidUtf8(html)) return Converter().Run(html);  // SanitizeUtf8 would copy it unchanged
  return Converter().Run(SanitizeUtf8(html));
}

}  // namespace poste::mail
