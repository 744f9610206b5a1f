#include "lib/mail/imap_response.hpp"

#include <algorithm>
#include <cctype>
#include <memory>

namespace poste::mail::imap {

namespace {

ImapError Protocol(const std::string& why) { return ImapError(ErrorKind::kProtocol, "IMAP server answer: " + why); }

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && Upper(text.substr(0, prefix.size())) == Upper(prefix);
}

// The size of a literal announced at the end of `line` ("... {123}" or the LITERAL+ form "{123+}").
std::optional<std::string_view> LiteralDigits(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  const auto open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view digits = line.substr(open + 1, line.size() - open - 2);
  if (!digits.empty() && digits.back() == '+') digits.remove_suffix(1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  return digits;
}

// A parsed piece of a response's text: what FETCH data is made of.
struct Token {
  enum Kind { kAtom, kString, kLiteral, kList, kNil } kind = kAtom;
  std::string text;          // atom or string contents
  std::size_t literal = 0;   // index into Response::literals
  std::vector<Token> items;  // list contents
};

class Tokenizer {
 public:
  Tokenizer(std::string_view text, std::size_t literals) : text_(text), literals_(literals) {}

  bool AtEnd() {
    SkipSpaces();
    return pos_ >= text_.size();
  }

  Token Next(int depth = 0) {
    SkipSpaces();
    if (pos_ >= text_.size()) throw Protocol("FETCH data ends early");
    const char c = text_[pos_];
    if (c == '(') {
      if (depth > 16) throw Protocol("FETCH data nests too deeply");
      ++pos_;
      Token list;
      list.kind = Token::kList;
      while (true) {
        SkipSpaces();
        if (pos_ >= text_.size()) throw Protocol("unbalanced parentheses in FETCH data");
        if (text_[pos_] == ')') {
          ++pos_;
          return list;
        }
        if (list.items.size() > 10000) throw Protocol("too many items in a FETCH list");
        list.items.push_back(Next(depth + 1));
      }
    }
    if (c == ')') throw Protocol("unexpected ')' in FETCH data");
    if (c == '"') return Quoted();
    if (c == '{') return LiteralToken();
    return Atom();
  }

 private:
  void SkipSpaces() {
    while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
  }

  Token Quoted() {
    Token t;
    t.kind = Token::kString;
    ++pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"') return t;
      if (c == '\\') {
        if (pos_ >= text_.size()) break;
        c = text_[pos_++];
      }
      t.text += c;
    }
    throw Protocol("unterminated quoted string");
  }

  Token LiteralToken() {
    const auto close = text_.find('}', pos_);
    if (close == std::string_view::npos) throw Protocol("malformed literal");
    pos_ = close + 1;
    if (next_literal_ >= literals_) throw Protocol("literal marker without its data");
    Token t;
    t.kind = Token::kLiteral;
    t.literal = next_literal_++;
    return t;
  }

  Token Atom() {
    Token t;
    int brackets = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (brackets == 0 && (c == ' ' || c == '(' || c == ')' || c == '"' || c == '{')) break;
      if (c == '[') ++brackets;
      if (c == ']' && brackets > 0) --brackets;
      t.text += c;
      ++pos_;
    }
    if (t.text.empty()) throw Protocol("empty atom in FETCH data");
    if (Upper(t.text) == "NIL") t.kind = Token::kNil;
    return t;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t literals_ = 0;
  std::size_t next_literal_ = 0;
};

std::uint32_t NeedNumber32(std::string_view text, const char* what) {
  auto n = ParseNumber32(text);
  if (!n) throw Protocol(std::string(what) + " is not a valid number");
  return *n;
}

// The [CODE value] of an untagged "OK [CODE value] text", as (CODE upper case, value).
std::optional<std::pair<std::string, std::string>> ResponseCode(std::string_view text) {
  if (!StartsWithNoCase(text, "OK [")) return std::nullopt;
  const auto close = text.find(']');
  if (close == std::string_view::npos) throw Protocol("unterminated response code");
  std::string_view code = text.substr(4, close - 4);
  const auto space = code.find(' ');
  if (space == std::string_view::npos) return std::make_pair(Upper(code), std::string());
  return std::make_pair(Upper(code.substr(0, space)), std::string(code.substr(space + 1)));
}

}  // namespace

std::optional<std::uint32_t> ParseNumber32(std::string_view text) {
  if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  std::uint64_t n = 0;
  for (char c : text) n = n * 10 + static_cast<std::uint64_t>(c - '0');
  if (n > 0xFFFFFFFFull) return std::nullopt;
  return static_cast<std::uint32_t>(n);
}

void ResponseReader::Feed(std::string_view bytes) { buffer_.append(bytes); }

void ResponseReader::Compact() {
  if (pos_ > (64u << 10) && pos_ * 2 > buffer_.size()) {
    buffer_.erase(0, pos_);
    pos_ = 0;
  }
}

std::optional<Response> ResponseReader::Next() {
  while (true) {
    if (in_literal_) {
      const std::size_t take = std::min(literal_left_, buffer_.size() - pos_);
      auto& literal = partial_->literals.back();
      if (literal.bytes) literal.bytes->append(buffer_, pos_, take);
      pos_ += take;
      literal_left_ -= take;
      Compact();
      if (literal_left_ > 0) return std::nullopt;
      in_literal_ = false;
    }
    const auto newline = buffer_.find('\n', pos_);
    if (newline == std::string::npos) {
      if (buffer_.size() - pos_ > limits_.max_line) throw Protocol("a line is longer than the limit");
      return std::nullopt;
    }
    std::string_view line(buffer_.data() + pos_, newline - pos_);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() > limits_.max_line) throw Protocol("a line is longer than the limit");
    if (!partial_) {
      const auto space = line.find(' ');
      std::string_view tag = line.substr(0, space);
      if (tag.empty()) throw Protocol("a line without a tag");
      for (char c : tag) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7F || c == '{' || c == '(' || c == ')' || c == '"') {
          throw Protocol("a line with an invalid tag");
        }
      }
      partial_.emplace();
      partial_->tag = std::string(tag);
      partial_->text = space == std::string_view::npos ? std::string() : std::string(line.substr(space + 1));
    } else {
      partial_->text.append(line);
      if (partial_->text.size() > limits_.max_line) throw Protocol("a response is longer than the limit");
    }
    const auto digits = LiteralDigits(line);
    pos_ = newline + 1;
    if (!digits) {
      Compact();
      Response out = std::move(*partial_);
      partial_.reset();
      return out;
    }
    if (digits->size() > 12) throw Protocol("a literal is larger than the limit");
    std::size_t size = 0;
    for (char c : *digits) size = size * 10 + static_cast<std::size_t>(c - '0');
    if (size > limits_.max_declared_literal) throw Protocol("a literal is larger than the limit");
    if (partial_->literals.size() >= limits_.max_literals) throw Protocol("too many literals in one response");
    Literal literal;
    literal.size = size;
    if (size <= limits_.max_literal) {
      literal.bytes.emplace();
      literal.bytes->reserve(std::min<std::size_t>(size, 1u << 20));
    }
    partial_->literals.push_back(std::move(literal));
    literal_left_ = size;
    in_literal_ = size > 0;
  }
}

Status ParseStatus(std::string_view text) {
  const auto space = text.find(' ');
  Status s;
  s.condition = Upper(text.substr(0, space));
  if (s.condition != "OK" && s.condition != "NO" && s.condition != "BAD") {
    throw Protocol("a tagged answer that is not OK, NO or BAD");
  }
  if (space != std::string_view::npos) s.text = std::string(text.substr(space + 1));
  return s;
}

MailboxInfo ParseMailboxInfo(const std::vector<Response>& untagged) {
  MailboxInfo info;
  bool have_validity = false;
  for (const auto& r : untagged) {
    if (!r.untagged()) continue;
    if (auto code = ResponseCode(r.text)) {
      if (code->first == "UIDVALIDITY") {
        info.uidvalidity = NeedNumber32(code->second, "UIDVALIDITY");
        if (info.uidvalidity == 0) throw Protocol("UIDVALIDITY is 0");
        have_validity = true;
      } else if (code->first == "UIDNEXT") {
        info.uidnext = NeedNumber32(code->second, "UIDNEXT");
      }
      continue;
    }
    const auto space = r.text.find(' ');
    if (space != std::string::npos && Upper(std::string_view(r.text).substr(space + 1)) == "EXISTS") {
      info.exists = NeedNumber32(std::string_view(r.text).substr(0, space), "EXISTS");
    }
  }
  if (!have_validity) throw Protocol("the mailbox has no UIDVALIDITY");
  return info;
}

std::vector<std::uint32_t> ParseSearch(const std::vector<Response>& untagged) {
  std::vector<std::uint32_t> uids;
  for (const auto& r : untagged) {
    if (!r.untagged() || !StartsWithNoCase(r.text, "SEARCH")) continue;
    std::string_view rest = std::string_view(r.text).substr(6);
    if (!rest.empty() && rest.front() != ' ') continue;  // another answer that starts with SEARCH...
    while (!rest.empty()) {
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      if (rest.empty()) break;
      const auto end = rest.find(' ');
      const auto token = rest.substr(0, end);
      // A (MODSEQ n) suffix (CONDSTORE) is not asked for; anything else is not a UID.
      auto uid = ParseNumber32(token);
      if (!uid || *uid == 0) throw Protocol("a SEARCH answer with an invalid UID");
      uids.push_back(*uid);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
    }
  }
  std::sort(uids.begin(), uids.end());
  uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
  return uids;
}

std::optional<FetchData> ParseFetch(const Response& response) {
  if (!response.untagged()) return std::nullopt;
  std::string_view text = response.text;
  const auto space = text.find(' ');
  if (space == std::string_view::npos || !StartsWithNoCase(text.substr(space + 1), "FETCH")) return std::nullopt;
  FetchData out;
  auto seq = ParseNumber32(text.substr(0, space));
  if (!seq || *seq == 0) throw Protocol("a FETCH answer with an invalid sequence number");
  out.seq = *seq;
  Tokenizer tokens(text.substr(space + 1 + 5), response.literals.size());
  Token list = tokens.Next();
  if (list.kind != Token::kList) throw Protocol("FETCH data is not a list");
  if (!tokens.AtEnd()) throw Protocol("text after the FETCH data");
  if (list.items.size() % 2 != 0) throw Protocol("FETCH data without a value");
  for (std::size_t i = 0; i < list.items.size(); i += 2) {
    const Token& key = list.items[i];
    const Token& value = list.items[i + 1];
    if (key.kind != Token::kAtom) throw Protocol("a FETCH item name that is not an atom");
    const std::string name = Upper(key.text);
    if (name == "UID") {
      if (value.kind != Token::kAtom) throw Protocol("UID is not a number");
      out.uid = NeedNumber32(value.text, "UID");
      if (*out.uid == 0) throw Protocol("UID is 0");
    } else if (name == "FLAGS") {
      if (value.kind != Token::kList) throw Protocol("FLAGS is not a list");
      for (const auto& flag : value.items) {
        if (flag.kind != Token::kAtom) throw Protocol("a flag that is not an atom");
        out.flags.push_back(flag.text);
      }
    } else if (name == "RFC822.SIZE") {
      if (value.kind != Token::kAtom) throw Protocol("RFC822.SIZE is not a number");
      out.size = NeedNumber32(value.text, "RFC822.SIZE");
    } else if (name.starts_with("BODY[") || name.starts_with("BINARY[") || name == "RFC822") {
      if (value.kind == Token::kNil) continue;
      if (value.kind == Token::kString) {
        out.body = value.text;
        out.body_size = value.text.size();
      } else if (value.kind == Token::kLiteral) {
        const auto& literal = response.literals[value.literal];
        out.body_size = literal.size;
        if (literal.bytes) {
          out.body = *literal.bytes;
        } else {
          out.body_dropped = true;
        }
      } else {
        throw Protocol("a body that is not a string");
      }
    }
  }
  return out;
}

std::string Quote(std::string_view text) {
  if (text.size() > 1000) throw ImapError(ErrorKind::kInvalid, "the name is too long");
  std::string out = "\"";
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u == 0 || c == '\r' || c == '\n' || u >= 0x80) {
      throw ImapError(ErrorKind::kInvalid, "the name has a control or non-ASCII character");
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace poste::mail::imap
