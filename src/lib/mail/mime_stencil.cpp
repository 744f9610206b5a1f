#include "lib/mail/mime_stencil.hpp"

#include <gmime/gmime.h>

#include <chrono>
#include <memory>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/random.hpp"
#include "lib/mail/entities.hpp"
#include "lib/mail/html_text.hpp"
#include "lib/mail/mime_detail.hpp"
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
void AppendUnstructured(std::string& out, std::string_view name, const std::string& value) {
  GString_ encoded(g_mime_utils_header_encode_text(FormatOptions(), value.c_str(), "utf-8"));
  const std::string line = std::string(name) + ": " + (encoded ? encoded.get() : "");
  GString_ folded(g_mime_utils_unstructured_header_fold(nullptr, FormatOptions(), line.c_str()));
  AppendCrlf(out, folded ? std::string_view(folded.get()) : std::string_view(line));
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out.append("\r\n");
}

// "Name: " and the mailboxes, names in UTF-8 encoded words, folded as GMime folds address lists.
void AppendAddresses(std::string& out, std::string_view name, const std::vector<Mailbox>& boxes) {
  if (boxes.empty()) return;
  InternetAddressList* list = internet_address_list_new();
  for (const auto& box : boxes) {
    InternetAddress* address =
        internet_address_mailbox_new(box.name.empty() ? nullptr : box.name.c_str(), box.email.c_str());
    internet_address_set_charset(address, "utf-8");
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

std::string Encode(GMimeContentEncoding encoding, std::string_view in) {
  GMimeEncoding state;
  g_mime_encoding_init_encode(&state, encoding);
  std::string out(g_mime_encoding_outlen(&state, in.size()), '\0');
  out.resize(g_mime_encoding_flush(&state, in.data(), in.size(), out.data()));
  return out;
}

// One text part: its headers, then the body in the encoding its bytes require (as BuildMessage's TextPart).
void AppendTextPart(std::string& out, std::string_view subtype, std::string_view text) {
  const std::string body = ToLf(text);
  const BodyEncoding encoding = detail::EncodingFor(body);
  out.append("Content-Type: text/").append(subtype).append("; charset=utf-8\r\nContent-Transfer-Encoding: ");
  std::string encoded;
  switch (encoding) {
    case BodyEncoding::k7bit:
      out.append("7bit\r\n\r\n");
      AppendCrlf(out, body);
      break;
    case BodyEncoding::kQuotedPrintable:
      out.append("quoted-printable\r\n\r\n");
      AppendCrlf(out, Encode(GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, body));
      break;
    case BodyEncoding::kBase64: {
      out.append("base64\r\n\r\n");
      std::string canonical;  // base64 carries text with CRLF line ends (RFC 2045 §6.8)
      AppendCrlf(canonical, body);
      AppendCrlf(out, Encode(GMIME_CONTENT_ENCODING_BASE64, canonical));
      break;
    }
  }
  // No line end added: the CRLF before a boundary belongs to the boundary (RFC 2046 §5.1.1).
}

}  // namespace

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

  AppendAddresses(head_, "From", {common_.from});
  if (common_.reply_to) AppendAddresses(head_, "Reply-To", {*common_.reply_to});
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(common_.date->time_since_epoch()).count();
  GDateTime* date = g_date_time_new_from_unix_utc(seconds);
  GString_ formatted(g_mime_utils_header_format_date(date));
  g_date_time_unref(date);
  head_.append("Date: ").append(formatted.get()).append("\r\n");
  for (const auto& [name, value] : common_.headers) AppendUnstructured(head_, name, value);
  head_.append("MIME-Version: 1.0\r\n");
  // "=-" cannot appear in quoted-printable or base64 text, and the random part is unknown to recipients'
  // variables in 7bit text.
  boundary_ = "=-" + crypto::HexEncode(crypto::RandomBytes(12));
}

BuiltMessage MessageStencil::Build(const OutgoingMessage& m) const {
  OutgoingMessage full = common_;
  full.to = m.to;
  full.cc = m.cc;
  full.subject = m.subject;
  full.list_unsubscribe_url = m.list_unsubscribe_url;
  full.list_unsubscribe_mailto = m.list_unsubscribe_mailto;
  full.message_id = m.message_id;
  std::vector<FieldError> errors;
  ValidateMessage(full, errors);  // `full` has no bodies (no copies of the largest fields): checked here
  for (auto [field, body] : {std::pair{"html", &m.html}, std::pair{"text", &m.text}}) {
    if (!validate::IsValidUtf8(*body)) errors.push_back({field, "invalid_utf8", "The text is not valid UTF-8."});
  }
  ThrowIfAny(std::move(errors));

  BuiltMessage built;
  built.message_id = m.message_id.empty() ? "<" + crypto::HexEncode(crypto::RandomBytes(16)) + "@" +
                                                detail::MessageIdDomain(common_) + ">"
                                          : BracketMessageId(m.message_id);
  std::string& out = built.bytes;
  out.reserve(2048 + 2 * (m.html.size() + m.text.size()));
  out.append(head_);
  AppendAddresses(out, "To", full.to);
  AppendAddresses(out, "Cc", full.cc);
  AppendUnstructured(out, "Subject", full.subject);
  out.append("Message-Id: ").append(built.message_id).append("\r\n");
  if (!m.list_unsubscribe_url.empty() || !m.list_unsubscribe_mailto.empty()) {
    // Written as it is, folded after the comma (see BuildMessage: encoded words would break the links).
    std::string value;
    for (const auto* u : {&m.list_unsubscribe_url, &m.list_unsubscribe_mailto}) {
      if (!u->empty()) value.append(value.empty() ? " <" : ",\r\n <").append(*u).append(">");
    }
    out.append("List-Unsubscribe:").append(value).append("\r\n");
    if (!m.list_unsubscribe_url.empty()) out.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
  }
  const std::size_t head_end = out.size();
  const std::string text = m.text.empty() && !m.html.empty() ? HtmlToText(m.html) : m.text;
  if (m.html.empty()) {
    AppendTextPart(out, "plain", text);
  } else {
    out.append("Content-Type: multipart/alternative; boundary=\"").append(boundary_).append("\"\r\n\r\n");
    out.append("--").append(boundary_).append("\r\n");
    AppendTextPart(out, "plain", text);
    out.append("\r\n--").append(boundary_).append("\r\n");
    AppendTextPart(out, "html", m.html);
    out.append("\r\n--").append(boundary_).append("--\r\n");
  }
  detail::CheckHeaderLines(std::string_view(out).substr(0, head_end));
  return built;
}

}  // namespace poste::mail
