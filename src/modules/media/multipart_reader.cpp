#include "modules/media/multipart_reader.hpp"

#include <algorithm>
#include <vector>

#include "lib/error.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/web/message.hpp"

namespace poste::media {

namespace {

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void SkipSpace(std::string_view& s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
}

std::string_view Token(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && IsTokenChar(s[n])) ++n;
  auto t = s.substr(0, n);
  s.remove_prefix(n);
  return t;
}

// RFC 8187: charset'language'percent-encoded; only UTF-8 (and its ASCII subset) is accepted.
std::optional<std::string> DecodeExtValue(std::string_view v) {
  auto q1 = v.find('\'');
  if (q1 == std::string_view::npos) return std::nullopt;
  auto q2 = v.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return std::nullopt;
  auto charset = validate::ascii::ToLower(v.substr(0, q1));
  if (charset != "utf-8" && charset != "us-ascii") return std::nullopt;
  return web::PercentDecode(v.substr(q2 + 1));
}

}  // namespace

std::optional<std::string> HeaderValue::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::optional<HeaderValue> ParseHeaderValue(std::string_view s) {
  HeaderValue out;
  SkipSpace(s);
  auto value = s.substr(0, s.find(';'));
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  for (char c : value) {
    if (!IsTokenChar(c) && c != '/') return std::nullopt;
  }
  out.value = validate::ascii::ToLower(value);
  s.remove_prefix(std::min(s.size(), s.find(';')));
  while (!s.empty()) {
    if (s.front() != ';') return std::nullopt;
    s.remove_prefix(1);
    SkipSpace(s);
    if (s.empty()) break;  // a trailing ';'
    auto name = validate::ascii::ToLower(Token(s));
    if (name.empty()) return std::nullopt;
    SkipSpace(s);
    if (s.empty() || s.front() != '=') return std::nullopt;
    s.remove_prefix(1);
    SkipSpace(s);
    std::string v;
    if (!s.empty() && s.front() == '"') {
      s.remove_prefix(1);
      bool closed = false;
      while (!s.empty()) {
        char c = s.front();
        s.remove_prefix(1);
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && !s.empty()) {
          c = s.front();
          s.remove_prefix(1);
        }
        v += c;
      }
      if (!closed) return std::nullopt;
    } else {
      // Tokens, plus the characters browsers leave unquoted in practice.
      std::size_t n = 0;
      while (n < s.size() && s[n] != ';' && s[n] != ' ' && s[n] != '\t' && s[n] != '"') ++n;
      v = std::string(s.substr(0, n));
      s.remove_prefix(n);
    }
    if (name.ends_with('*')) {
      auto decoded = DecodeExtValue(v);
      if (!decoded) return std::nullopt;
      v = std::move(*decoded);
    }
    out.params.emplace_back(std::move(name), std::move(v));
    SkipSpace(s);
  }
  return out;
}

std::optional<std::string> DispositionFilename(const HeaderValue& disposition) {
  if (auto ext = disposition.Param("filename*")) return ext;
  return disposition.Param("filename");
}

std::optional<std::string> FormDataBoundary(std::string_view content_type) {
  auto parsed = ParseHeaderValue(content_type);
  if (!parsed || parsed->value != "multipart/form-data") return std::nullopt;
  auto boundary = parsed->Param("boundary");
  if (!boundary || boundary->empty() || boundary->size() > 70 || boundary->back() == ' ') return std::nullopt;
  for (char c : *boundary) {
    const bool bchar = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       std::string_view("'()+_,-./:=? ").find(c) != std::string_view::npos;
    if (!bchar) return std::nullopt;
  }
  return boundary;
}

MultipartReader::MultipartReader(std::string boundary, Handler handler, MultipartLimits limits)
    : delimiter_("\r\n--" + boundary), handler_(std::move(handler)), limits_(limits) {
  // The first boundary has no CRLF before it: start as if the body began with one.
  buffer_ = "\r\n";
}

void MultipartReader::Malformed(const std::string& why) {
  throw AppError::BadRequest("The multipart body is malformed: " + why + ".", {{"body", "invalid_multipart", why}});
}

void MultipartReader::Feed(std::string_view chunk) {
  if (state_ == State::kEpilogue) return;  // anything after the closing boundary is ignored
  buffer_.append(chunk);
  while (Step()) {
  }
}

void MultipartReader::Finish() {
  if (state_ != State::kEpilogue) Malformed("the body ended before the closing boundary");
}

bool MultipartReader::Step() {
  switch (state_) {
    case State::kPreamble: {
      auto at = buffer_.find(delimiter_);
      if (at == std::string::npos) {
        // Keep only what could be the start of a delimiter.
        if (buffer_.size() >= delimiter_.size()) buffer_.erase(0, buffer_.size() - (delimiter_.size() - 1));
        return false;
      }
      buffer_.erase(0, at + delimiter_.size());
      state_ = State::kAfterDelimiter;
      return true;
    }
    case State::kAfterDelimiter: {
      if (buffer_.size() < 2) return false;
      if (buffer_.compare(0, 2, "--") == 0) {
        state_ = State::kEpilogue;
        buffer_.clear();
        return false;
      }
      state_ = State::kBoundaryLine;
      return true;
    }
    case State::kBoundaryLine: {
      auto eol = buffer_.find("\r\n");
      if (eol == std::string::npos) {
        if (buffer_.size() > 256) Malformed("a boundary line is not followed by CRLF");
        return false;
      }
      if (buffer_.find_first_not_of(" \t") < eol) Malformed("a boundary line has trailing characters");
      buffer_.erase(0, eol + 2);
      if (++parts_ > limits_.max_parts) Malformed("too many parts");
      part_ = Part{};
      has_disposition_ = false;
      header_bytes_ = 0;
      state_ = State::kHeaders;
      return true;
    }
    case State::kHeaders: {
      auto eol = buffer_.find("\r\n");
      if (eol == std::string::npos) {
        if (header_bytes_ + buffer_.size() > limits_.max_header_bytes) Malformed("a part's headers are too large");
        return false;
      }
      header_bytes_ += eol + 2;
      if (header_bytes_ > limits_.max_header_bytes) Malformed("a part's headers are too large");
      std::string line = buffer_.substr(0, eol);
      buffer_.erase(0, eol + 2);
      if (!line.empty()) {
        HeaderLine(line);
        return true;
      }
      if (!has_disposition_) Malformed("a part has no Content-Disposition: form-data with a name");
      if (handler_.begin) handler_.begin(part_);
      state_ = State::kData;
      return true;
    }
    case State::kData: {
      auto at = buffer_.find(delimiter_);
      if (at == std::string::npos) {
        if (buffer_.size() >= delimiter_.size()) {
          const std::size_t safe = buffer_.size() - (delimiter_.size() - 1);
          if (handler_.data) handler_.data(std::string_view(buffer_).substr(0, safe));
          buffer_.erase(0, safe);
        }
        return false;
      }
      if (at > 0 && handler_.data) handler_.data(std::string_view(buffer_).substr(0, at));
      buffer_.erase(0, at + delimiter_.size());
      if (handler_.end) handler_.end();
      state_ = State::kAfterDelimiter;
      return true;
    }
    case State::kEpilogue:
      buffer_.clear();
      return false;
  }
  return false;
}

void MultipartReader::HeaderLine(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') Malformed("folded part headers are not allowed");
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) Malformed("a part header has no name");
  auto name = validate::ascii::ToLower(line.substr(0, colon));
  for (char c : name) {
    if (!IsTokenChar(c)) Malformed("a part header name is invalid");
  }
  auto value = line.substr(colon + 1);
  for (unsigned char c : value) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) Malformed("a part header holds a control character");
  }
  if (name == "content-disposition") {
    auto parsed = ParseHeaderValue(value);
    if (!parsed || parsed->value != "form-data") Malformed("a part's Content-Disposition is not form-data");
    auto field = parsed->Param("name");
    if (!field) Malformed("a part's Content-Disposition has no name");
    part_.name = *field;
    part_.filename = DispositionFilename(*parsed);
    has_disposition_ = true;
  } else if (name == "content-type") {
    auto parsed = ParseHeaderValue(value);
    if (!parsed) Malformed("a part's Content-Type is invalid");
    part_.content_type = parsed->value;
  }
}

}  // namespace poste::media
