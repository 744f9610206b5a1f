#include "lib/mail/mime_stencil.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/random.hpp"
#include "lib/mail/entities.hpp"
#include "lib/mail/html_text.hpp"
#include "lib/mail/mime_detail.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/validate/email.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {

namespace {

using detail::BodyEncoding;
using detail::FormatOptions;

struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using GString_ = std::unique_ptr<char, GFree>;

// GMime's helpers end lines with LF or CRLF depending on the helper: every line end becomes CRLF.
void AppendCrlf(std::string& out, std::string_view text) {
  std::size_t start = 0;
  while (start < text.size()) {
    const auto lf = text.find('\n', start);
    if (lf == std::string_view::npos) {
      out.append(text.substr(start));
      return;
    }
    std::size_t end = lf;
    if (end > start && text[end - 1] == '\r') --end;
    out.append(text.substr(start, end - start));
    out.append("\r\n");
    start = lf + 1;
  }
}

// "Name: value" folded as GMime folds unstructured headers, the value encoded (RFC 2047) when it is not ASCII.
void GMimeTextHeader(std::string& out, std::string_view name, const std::string& value) {
  GString_ encoded(g_mime_utils_header_encode_text(FormatOptions(), value.c_str(), "utf-8"));
  const std::string line = std::string(name) + ": " + (encoded ? encoded.get() : "");
  GString_ folded(g_mime_utils_unstructured_header_fold(nullptr, FormatOptions(), line.c_str()));
  AppendCrlf(out, folded ? std::string_view(folded.get()) : std::string_view(line));
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out.append("\r\n");
}

// "Name: " and the mailboxes, names in UTF-8 encoded words, folded as GMime folds address lists.
void GMimeAddressHeader(std::string& out, std::string_view name, const std::vector<Mailbox>& boxes) {
  InternetAddressList* list = internet_address_list_new();
  for (const auto& box : boxes) {
    InternetAddress* address =
        internet_address_mailbox_new(box.name.empty() ? nullptr : box.name.c_str(), box.email.c_str());
    internet_address_set_charset(address, "utf-8");
    detail::KeepAsciiDomain(INTERNET_ADDRESS_MAILBOX(address));
    internet_address_list_add(list, address);
    g_object_unref(address);
  }
  GString* line = g_string_new(nullptr);
  g_string_append_len(line, name.data(), static_cast<gssize>(name.size()));
  g_string_append(line, ": ");
  internet_address_list_encode(list, FormatOptions(), line);
  AppendCrlf(out, std::string_view(line->str, line->len));
  if (out.compare(out.size() - 2, 2, "\r\n") != 0) out.append("\r\n");
  g_string_free(line, TRUE);
  g_object_unref(list);
}

// Words of printable ASCII separated by single spaces, without "=?" (what starts an encoded word); for a
// display name (`atext`), words of RFC 5322 atext only, nothing that GMime would quote. GMime's header
// writers leave such text as it is when the line fits (mime_stencil_test compares them on random input).
bool IsPlainPhrase(std::string_view text, bool atext) {
  constexpr std::string_view kAtextSpecials = "!#$%&'*+-/=?^_`{|}~";
  if (text.empty() || text.front() == ' ' || text.back() == ' ') return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == ' ') {
      if (text[i + 1] == ' ') return false;
    } else if (c < 0x21 || c > 0x7e) {
      return false;
    } else if (atext && !validate::ascii::IsAlnum(c) && kAtextSpecials.find(c) == std::string_view::npos) {
      return false;
    } else if (c == '=' && i + 1 < text.size() && text[i + 1] == '?') {
      return false;
    }
  }
  return true;
}

// An address GMime writes as it is: a dot-atom at an LDH domain, without an A-label (see detail::KeepAsciiDomain).
bool IsPlainAddress(std::string_view email) {
  if (!validate::IsValidEmail(email)) return false;
  for (std::size_t i = 0; i + 4 <= email.size(); ++i) {
    if (validate::ascii::ToLower(email[i]) == 'x' && validate::ascii::ToLower(email[i + 1]) == 'n' &&
        email[i + 2] == '-' && email[i + 3] == '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

namespace detail {

void AppendTextHeader(std::string& out, std::string_view name, const std::string& value) {
  // GMime folds lines longer than 78 characters.
  if (name.size() + 2 + value.size() <= 78 && IsPlainPhrase(value, false)) {
    out.append(name).append(": ").append(value).append("\r\n");
    return;
  }
  GMimeTextHeader(out, name, value);
}

void AppendAddressHeader(std::string& out, std::string_view name, const std::vector<Mailbox>& boxes) {
  if (boxes.empty()) return;
  if (boxes.size() == 1) {
    // GMime folds before the address when the line would reach 78 characters.
    const Mailbox& box = boxes.front();
    const std::size_t length = name.size() + 2 + (box.name.empty() ? 0 : box.name.size() + 3) + box.email.size();
    if (length <= 77 && (box.name.empty() || IsPlainPhrase(box.name, true)) && IsPlainAddress(box.email)) {
      out.append(name).append(": ");
      if (box.name.empty()) {
        out.append(box.email);
      } else {
        out.append(box.name).append(" <").append(box.email).append(">");
      }
      out.append("\r\n");
      return;
    }
  }
  GMimeAddressHeader(out, name, boxes);
}

}  // namespace detail

namespace {

// One text part: its headers, then the body in the encoding its bytes require (as BuildMessage's TextPart).
void AppendTextPart(std::string& out, std::string_view subtype, std::string_view text, BodyEncoding encoding) {
  out.append("Content-Type: text/").append(subtype).append("; charset=utf-8\r\nContent-Transfer-Encoding: ");
  out.append(encoding == BodyEncoding::k7bit              ? "7bit"
             : encoding == BodyEncoding::kQuotedPrintable ? "quoted-printable"
                                                          : "base64");
  out.append("\r\n\r\n");
  detail::AppendBody(out, text, encoding);
  // No line end added: the CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1).
}

// The first CR or LF of [p, end), or end.
const char* FindLineEnd(const char* p, const char* end) {
  for (; end - p >= 8; p += 8) {
    const std::uint64_t word = detail::bytes::Load(p);
    const std::uint64_t marks = detail::bytes::Equal(word, '\n') | detail::bytes::Equal(word, '\r');
    if (marks != 0) return p + detail::bytes::FirstMarked(marks);
  }
  while (p < end && *p != '\n' && *p != '\r') ++p;
  return p;
}

// `text` with each line end (CRLF, CR or LF) written as CRLF.
void AppendLines(std::string& out, std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    const char* stop = FindLineEnd(p, end);
    out.append(p, stop);
    if (stop == end) return;
    out.append("\r\n");
    p = stop + (*stop == '\r' && stop + 1 < end && stop[1] == '\n' ? 2 : 1);
  }
}

// GMime's quoted-printable encoder (g_mime_encoding_quoted_encode_step and _close) run over ToLf(text), its
// LF written as CRLF. Its rules: a line holds at most 76 characters, soft break included ("=" before a line
// end that is not one); TAB and printable ASCII but '=' stay as they are, any other byte becomes =XX; a space
// or tab is written only once the next character shows it is not the last of a line (=20 / =09 when it is);
// the text ends with a soft break when it does not end with a line end.
void AppendQuotedPrintable(std::string& out, std::string_view text) {
  enum : unsigned char { kEscaped, kPlain, kBlank, kLineEnd };
  static constexpr auto kClass = [] {
    std::array<unsigned char, 256> classes{};  // kEscaped: controls, DEL, '=' and 8-bit bytes
    for (int c = 0x21; c <= 0x7e; ++c) classes[c] = kPlain;
    classes['='] = kEscaped;
    classes[' '] = classes['\t'] = kBlank;
    classes['\r'] = classes['\n'] = kLineEnd;
    return classes;
  }();
  constexpr char kHex[] = "0123456789ABCDEF";
  char buffer[1024];  // written in blocks: cheaper than growing `out` a character at a time
  std::size_t n = 0;
  auto escaped = [&](unsigned char c) {
    buffer[n++] = '=';
    buffer[n++] = kHex[c >> 4];
    buffer[n++] = kHex[c & 0xf];
  };
  auto soft_break = [&] {
    buffer[n++] = '=';
    buffer[n++] = '\r';
    buffer[n++] = '\n';
  };
  std::size_t column = 0;  // characters on the current output line
  int blank = -1;          // a space or tab not yet written
  const std::size_t size = text.size();
  for (std::size_t i = 0; i < size;) {
    if (n + 96 > sizeof buffer) {  // one step writes at most 75 (a run) or 7 bytes
      out.append(buffer, n);
      n = 0;
    }
    if (blank == -1 && column < 75) {
      // A run of plain characters, as far as the line has room: copied as they are. A space that neither
      // ends the text nor comes before a line end is written as the next character arrives, with the same
      // room checked: it counts as plain.
      const std::size_t limit = std::min(size, i + (75 - column));
      std::size_t j = i;
      bool stopped = false;
      while (!stopped && limit - j >= 8) {  // eight bytes at a time, up to the first other one
        const std::uint64_t word = detail::bytes::Load(text.data() + j);
        const std::uint64_t marks = detail::bytes::NotPrintable(word) | detail::bytes::Equal(word, '=');
        stopped = marks != 0;
        j += stopped ? detail::bytes::FirstMarked(marks) : 8;
      }
      auto plain = [](char c) { return c >= 0x20 && c <= 0x7e && c != '='; };
      while (!stopped && j < limit && plain(text[j])) ++j;
      if (j > i && text[j - 1] == ' ' && (j == size || text[j] == '\r' || text[j] == '\n')) --j;
      if (j > i) {
        std::memcpy(buffer + n, text.data() + i, j - i);
        n += j - i;
        column += j - i;
        i = j;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(text[i++]);
    const unsigned char kind = kClass[c];
    if (kind == kLineEnd) {
      if (c == '\r' && i < size && text[i] == '\n') ++i;
      if (blank != -1) escaped(static_cast<unsigned char>(blank));
      buffer[n++] = '\r';
      buffer[n++] = '\n';
      column = 0;
      blank = -1;
      continue;
    }
    if (blank != -1) {  // not at a line's end after all
      buffer[n++] = static_cast<char>(blank);
      ++column;
      blank = -1;
    }
    if (kind == kEscaped) {
      if (column > 72) {
        soft_break();
        column = 3;
      } else {
        column += 3;
      }
      escaped(c);
      continue;
    }
    if (column > 74) {
      soft_break();
      column = 0;
    }
    if (kind == kBlank) {
      blank = c;
    } else {
      buffer[n++] = static_cast<char>(c);
      ++column;
    }
  }
  if (blank != -1) {
    escaped(static_cast<unsigned char>(blank));
    soft_break();
  }
  out.append(buffer, n);
}

// Base64 of the text with CRLF line ends, in lines of 76 characters each ended by CRLF (GMime's layout).
void AppendBase64(std::string& out, std::string_view text) {
  std::string canonical;
  canonical.reserve(text.size() + text.size() / 16 + 2);
  AppendLines(canonical, text);
  const std::string encoded = crypto::Base64Encode(canonical);
  for (std::size_t at = 0; at < encoded.size(); at += 76) {
    out.append(std::string_view(encoded).substr(at, 76)).append("\r\n");
  }
}

}  // namespace

namespace detail {

void AppendBody(std::string& out, std::string_view text, BodyEncoding encoding) {
  switch (encoding) {
    case BodyEncoding::k7bit:
      AppendLines(out, text);
      return;
    case BodyEncoding::kQuotedPrintable:
      AppendQuotedPrintable(out, text);
      return;
    case BodyEncoding::kBase64:
      AppendBase64(out, text);
      return;
  }
}

}  // namespace detail

MessageStencil::MessageStencil(const OutgoingMessage& common) : common_(common) {
  common_.to.clear();
  common_.cc.clear();
  common_.bcc.clear();
  common_.subject.clear();
  common_.html.clear();
  common_.text.clear();
  common_.list_unsubscribe_url.clear();
  common_.list_unsubscribe_mailto.clear();
  common_.message_id.clear();
  if (!common_.attachments.empty()) {
    throw AppError::Validation(
        {{"attachments", "unsupported", "Messages with attachments are built one by one (BuildMessage)."}});
  }
  OutgoingMessage probe = common_;  // the common fields validated once, with a recipient so that `to` passes
  probe.to = {{"", "probe@example.com"}};
  std::vector<FieldError> errors;
  ValidateMessage(probe, errors);
  ThrowIfAny(std::move(errors));
  if (!common_.date) common_.date = std::chrono::system_clock::now();

  detail::AppendAddressHeader(head_, "From", {common_.from});
  if (common_.reply_to) detail::AppendAddressHeader(head_, "Reply-To", {*common_.reply_to});
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(common_.date->time_since_epoch()).count();
  GDateTime* date = g_date_time_new_from_unix_utc(seconds);
  GString_ formatted(g_mime_utils_header_format_date(date));
  g_date_time_unref(date);
  head_.append("Date: ").append(formatted.get()).append("\r\n");
  for (const auto& [name, value] : common_.headers) detail::AppendTextHeader(head_, name, value);
  head_.append("MIME-Version: 1.0\r\n");
  // "=-" cannot appear in quoted-printable or base64 text, and the random part is unknown to recipients'
  // variables in 7bit text.
  boundary_ = "=-" + crypto::HexEncode(crypto::RandomBytes(12));
  message_id_domain_ = detail::MessageIdDomain(common_);
}

BuiltMessage MessageStencil::Build(const OutgoingMessage& m) const {
  // The fields of `m` the message takes, checked as ValidateMessage checks them (the common ones were, once).
  static const std::vector<Mailbox> kNoBcc;
  std::vector<FieldError> errors;
  detail::CheckRecipients(m.to, m.cc, kNoBcc, errors);
  CheckHeaderValue(m.subject, "subject", errors);
  if (!m.message_id.empty()) detail::CheckMessageId(m.message_id, "message_id", errors);
  detail::CheckUnsubscribeLinks(m, errors);
  // One pass over each body both validates it and picks its transfer encoding.
  const detail::BodyScan html = detail::ScanBody(m.html);
  detail::BodyScan text = detail::ScanBody(m.text);
  if (!html.valid_utf8) errors.push_back({"html", "invalid_utf8", "The text is not valid UTF-8."});
  if (!text.valid_utf8) errors.push_back({"text", "invalid_utf8", "The text is not valid UTF-8."});
  ThrowIfAny(std::move(errors));

  BuiltMessage built;
  built.message_id = m.message_id.empty()
                         ? "<" + crypto::HexEncode(crypto::RandomBytes(16)) + "@" + message_id_domain_ + ">"
                         : BracketMessageId(m.message_id);
  std::string derived;  // the text part when `m` has none: derived from the HTML, as BuildMessage does
  if (m.text.empty() && !m.html.empty()) {
    derived = HtmlToText(m.html);
    text = detail::ScanBody(derived);
  }
  const std::string_view text_body = derived.empty() ? std::string_view(m.text) : std::string_view(derived);
  std::string& out = built.bytes;
  out.reserve(head_.size() + 1024 + m.html.size() + m.html.size() / 4 + text_body.size() + text_body.size() / 4);
  out.append(head_);
  detail::AppendAddressHeader(out, "To", m.to);
  detail::AppendAddressHeader(out, "Cc", m.cc);
  detail::AppendTextHeader(out, "Subject", m.subject);
  out.append("Message-Id: ").append(built.message_id).append("\r\n");
  if (!m.list_unsubscribe_url.empty() || !m.list_unsubscribe_mailto.empty()) {
    // Written as it is, folded after the comma (see BuildMessage: encoded words would break the links).
    out.append("List-Unsubscribe:");
    bool first = true;
    for (const auto* u : {&m.list_unsubscribe_url, &m.list_unsubscribe_mailto}) {
      if (u->empty()) continue;
      out.append(first ? " <" : ",\r\n <").append(*u).append(">");
      first = false;
    }
    out.append("\r\n");
    if (!m.list_unsubscribe_url.empty()) out.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
  }
  const std::size_t head_end = out.size();
  if (m.html.empty()) {
    AppendTextPart(out, "plain", text_body, text.encoding);
  } else {
    out.append("Content-Type: multipart/alternative; boundary=\"").append(boundary_).append("\"\r\n\r\n");
    out.append("--").append(boundary_).append("\r\n");
    AppendTextPart(out, "plain", text_body, text.encoding);
    out.append("\r\n--").append(boundary_).append("\r\n");
    AppendTextPart(out, "html", m.html, html.encoding);
    out.append("\r\n--").append(boundary_).append("--\r\n");
  }
  detail::CheckHeaderLines(std::string_view(out).substr(0, head_end));
  return built;
}

}  // namespace poste::mail
