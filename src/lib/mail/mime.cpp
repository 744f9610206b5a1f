#include "lib/mail/mime.hpp"

#include <fcntl.h>
#include <gmime/gmime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/random.hpp"
#include "lib/mail/entities.hpp"
#include "lib/mail/html_text.hpp"
#include "lib/mail/mime_detail.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/validate/domain.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;
using detail::FormatOptions;

struct Unref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
template <typename T>
using GPtr = std::unique_ptr<T, Unref>;

GPtr<GMimeObject> TextPart(const char* subtype, std::string_view text) {
  const auto chosen = detail::ScanBody(text).encoding;
  std::string body = ToLf(text);
  const GMimeContentEncoding encoding = chosen == detail::BodyEncoding::k7bit ? GMIME_CONTENT_ENCODING_7BIT
                                        : chosen == detail::BodyEncoding::kQuotedPrintable
                                            ? GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE
                                            : GMIME_CONTENT_ENCODING_BASE64;
  if (encoding == GMIME_CONTENT_ENCODING_BASE64) {
    // Base64 carries text in its canonical form (RFC 2045 §6.8): CRLF line ends.
    std::string crlf;
    crlf.reserve(body.size() + body.size() / 32);
    for (char c : body) {
      if (c == '\n') crlf.push_back('\r');
      crlf.push_back(c);
    }
    body = std::move(crlf);
  }
  GPtr<GMimeObject> part(GMIME_OBJECT(g_mime_text_part_new_with_subtype(subtype)));
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(body.data(), body.size()));
  GPtr<GMimeDataWrapper> content(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(GMIME_PART(part.get()), content.get());
  g_mime_text_part_set_charset(GMIME_TEXT_PART(part.get()), "utf-8");
  g_mime_part_set_content_encoding(GMIME_PART(part.get()), encoding);
  return part;
}

void Utf8Param(GMimeParamList* list, const char* name) {
  if (list == nullptr) return;
  if (GMimeParam* param = g_mime_param_list_get_parameter(list, name)) g_mime_param_set_charset(param, "utf-8");
}

std::string SafeFilename(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '/', '_');
  std::replace(out.begin(), out.end(), '\\', '_');
  return out;
}

GPtr<GMimeObject> AttachmentPart(const Attachment& a, std::size_t index) {
  auto slash = a.content_type.find('/');
  std::string type = ascii::ToLower(a.content_type.substr(0, slash));
  std::string subtype = ascii::ToLower(a.content_type.substr(slash + 1));
  GPtr<GMimeObject> part(GMIME_OBJECT(g_mime_part_new_with_type(type.c_str(), subtype.c_str())));
  GPtr<GMimeStream> stream;
  if (a.bytes.empty() && !a.path.empty()) {
    GError* error = nullptr;
    stream.reset(g_mime_stream_fs_open(a.path.c_str(), O_RDONLY, 0, &error));
    if (!stream) {
      if (error != nullptr) g_error_free(error);
      throw AppError::Validation(
          {{"attachments[" + std::to_string(index) + "].path", "unreadable", "The attachment's file cannot be read."}});
    }
  } else {
    stream.reset(g_mime_stream_mem_new_with_buffer(a.bytes.data(), a.bytes.size()));
  }
  GPtr<GMimeDataWrapper> content(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(GMIME_PART(part.get()), content.get());
  g_mime_part_set_content_encoding(GMIME_PART(part.get()), GMIME_CONTENT_ENCODING_BASE64);
  g_mime_object_set_disposition(part.get(), a.content_id.empty() ? "attachment" : "inline");
  if (!a.filename.empty()) {
    g_mime_part_set_filename(GMIME_PART(part.get()), SafeFilename(a.filename).c_str());
    // GMime would pick iso-8859-1 for names that fit it; UTF-8 is what every client decodes.
    Utf8Param(g_mime_content_disposition_get_parameters(g_mime_object_get_content_disposition(part.get())), "filename");
    Utf8Param(g_mime_content_type_get_parameters(g_mime_object_get_content_type(part.get())), "name");
  }
  if (!a.content_id.empty()) g_mime_object_set_content_id(part.get(), a.content_id.c_str());
  return part;
}

GPtr<GMimeObject> Multipart(const char* subtype, std::vector<GPtr<GMimeObject>> parts) {
  GPtr<GMimeObject> multipart(GMIME_OBJECT(g_mime_multipart_new_with_subtype(subtype)));
  for (auto& p : parts) g_mime_multipart_add(GMIME_MULTIPART(multipart.get()), p.get());
  return multipart;
}

void AddAddresses(GMimeMessage* message, GMimeAddressType type, const std::vector<Mailbox>& boxes) {
  InternetAddressList* list = g_mime_message_get_addresses(message, type);
  for (const auto& box : boxes) {
    GPtr<InternetAddress> address(
        internet_address_mailbox_new(box.name.empty() ? nullptr : box.name.c_str(), box.email.c_str()));
    internet_address_set_charset(address.get(), "utf-8");
    detail::KeepAsciiDomain(INTERNET_ADDRESS_MAILBOX(address.get()));
    internet_address_list_add(list, address.get());
  }
}

}  // namespace

namespace detail {

GMimeFormatOptions* FormatOptions() {
  // Made once (a function-local static is initialised once, thread-safely), then only read.
  static GMimeFormatOptions* options = [] {
    InitMime();
    GMimeFormatOptions* o = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(o, GMIME_NEWLINE_FORMAT_DOS);
    g_mime_format_options_set_param_encoding_method(o, GMIME_PARAM_ENCODING_METHOD_RFC2231);
    return o;
  }();
  return options;
}

BodyScan ScanBody(std::string_view text) {
  BodyScan scan;
  std::size_t eight_bit = 0;
  std::size_t longest = 0;  // in bytes, without the line end
  std::size_t crlf = 0;     // CRLF pairs: ToLf makes each one byte
  bool nul = false;
  std::size_t line = 0;  // where the current line starts
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    if (n - i >= 8) {  // eight bytes at a time up to the first 8-bit byte, line end or NUL: most of a body
      const std::uint64_t word = bytes::Load(text.data() + i);
      const std::uint64_t marks =
          bytes::High(word) | bytes::Equal(word, '\n') | bytes::Equal(word, '\r') | bytes::Equal(word, 0);
      if (marks == 0) {
        i += 8;
        continue;
      }
      i += bytes::FirstMarked(marks);
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) {
      const std::size_t length = validate::Utf8SequenceLength(text, i);
      if (length == 0) scan.valid_utf8 = false;
      eight_bit += std::max<std::size_t>(length, 1);
      i += std::max<std::size_t>(length, 1);
    } else if (c == '\n' || c == '\r') {
      longest = std::max(longest, i - line);
      if (c == '\r' && i + 1 < n && text[i + 1] == '\n') {
        ++crlf;
        ++i;
      }
      line = ++i;
    } else {
      nul = nul || c == 0;
      ++i;
    }
  }
  longest = std::max(longest, n - line);
  if (eight_bit == 0 && !nul && longest <= kMaxLine - 2) {
    scan.encoding = BodyEncoding::k7bit;
  } else if (eight_bit * 5 < n - crlf) {
    scan.encoding = BodyEncoding::kQuotedPrintable;
  } else {
    scan.encoding = BodyEncoding::kBase64;
  }
  return scan;
}

void KeepAsciiDomain(InternetAddressMailbox* mailbox) {
  const char* addr = internet_address_mailbox_get_addr(mailbox);
  if (mailbox->idn_addr != nullptr || addr == nullptr) return;
  for (const char* p = addr; *p != '\0'; ++p) {
    if (static_cast<unsigned char>(*p) >= 0x80) return;
    if ((p[0] == 'x' || p[0] == 'X') && (p[1] == 'n' || p[1] == 'N') && p[2] == '-' && p[3] == '-') return;
  }
  mailbox->idn_addr = g_strdup(addr);  // freed by GMime with the mailbox
}

std::string MessageIdDomain(const OutgoingMessage& m) {
  std::string_view domain = m.message_id_domain;
  if (domain.empty()) {
    auto at = m.from.email.rfind('@');
    if (at != std::string::npos) domain = std::string_view(m.from.email).substr(at + 1);
  }
  if (!validate::IsValidDomain(domain)) return "poste.local";  // an IDN or nonsense: not in a Message-ID
  return std::string(domain);
}

void CheckHeaderLines(std::string_view bytes) {
  auto end = bytes.find("\r\n\r\n");
  std::string_view head = bytes.substr(0, end);
  std::size_t start = 0;
  while (start < head.size()) {
    auto eol = head.find("\r\n", start);
    std::size_t length = (eol == std::string_view::npos ? head.size() : eol) - start;
    if (length > kMaxLine) {
      throw AppError::Validation({{"headers", "line_too_long", "A header is too long to be sent."}});
    }
    if (eol == std::string_view::npos) break;
    start = eol + 2;
  }
}

}  // namespace detail

void InitMime() {
  static std::once_flag once;
  std::call_once(once, [] { g_mime_init(); });
}

BuiltMessage BuildMessage(const OutgoingMessage& m) {
  std::vector<FieldError> errors;
  ValidateMessage(m, errors);
  ThrowIfAny(std::move(errors));
  FormatOptions();

  GPtr<GMimeMessage> message(g_mime_message_new(TRUE));
  AddAddresses(message.get(), GMIME_ADDRESS_TYPE_FROM, {m.from});
  AddAddresses(message.get(), GMIME_ADDRESS_TYPE_TO, m.to);
  AddAddresses(message.get(), GMIME_ADDRESS_TYPE_CC, m.cc);
  if (m.reply_to) AddAddresses(message.get(), GMIME_ADDRESS_TYPE_REPLY_TO, {*m.reply_to});
  g_mime_message_set_subject(message.get(), m.subject.c_str(), "utf-8");

  auto when = m.date.value_or(std::chrono::system_clock::now());
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
  GDateTime* date = g_date_time_new_from_unix_utc(seconds);
  g_mime_message_set_date(message.get(), date);
  g_date_time_unref(date);

  std::string id = m.message_id.empty()
                       ? "<" + crypto::HexEncode(crypto::RandomBytes(16)) + "@" + detail::MessageIdDomain(m) + ">"
                       : BracketMessageId(m.message_id);
  g_mime_message_set_message_id(message.get(), id.substr(1, id.size() - 2).c_str());

  GMimeObject* root = GMIME_OBJECT(message.get());
  if (!m.in_reply_to.empty()) {
    g_mime_object_set_header(root, "In-Reply-To", BracketMessageId(m.in_reply_to).c_str(), nullptr);
  }
  if (!m.references.empty()) {
    std::string refs;
    for (const auto& r : m.references) refs += (refs.empty() ? "" : " ") + BracketMessageId(r);
    g_mime_object_set_header(root, "References", refs.c_str(), nullptr);
  }
  if (!m.list_unsubscribe_url.empty() || !m.list_unsubscribe_mailto.empty()) {
    std::string value, raw;
    for (const auto* u : {&m.list_unsubscribe_url, &m.list_unsubscribe_mailto}) {
      if (u->empty()) continue;
      value += (value.empty() ? "<" : ", <") + *u + ">";
      raw += (raw.empty() ? " <" : ",\n <") + *u + ">";
    }
    g_mime_object_set_header(root, "List-Unsubscribe", value.c_str(), nullptr);
    // GMime would fold a long URL as RFC 2047 encoded words, which no mail client reads as a link: the
    // value is written as it is (URLs are ASCII without spaces, checked above), folded after the comma.
    GMimeHeader* header = g_mime_header_list_get_header(g_mime_object_get_header_list(root), "List-Unsubscribe");
    if (header) g_mime_header_set_raw_value(header, (raw + "\n").c_str());
    if (!m.list_unsubscribe_url.empty()) {
      g_mime_object_set_header(root, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click", nullptr);
    }
  }
  for (const auto& [name, value] : m.headers) {
    g_mime_object_append_header(root, name.c_str(), value.c_str(), "utf-8");
  }

  std::string text = m.text.empty() && !m.html.empty() ? HtmlToText(m.html) : m.text;
  GPtr<GMimeObject> body;
  if (!m.html.empty()) {
    body = TextPart("html", m.html);
    std::vector<GPtr<GMimeObject>> related;
    for (std::size_t i = 0; i < m.attachments.size(); ++i) {
      if (!m.attachments[i].content_id.empty()) related.push_back(AttachmentPart(m.attachments[i], i));
    }
    if (!related.empty()) {
      related.insert(related.begin(), std::move(body));
      body = Multipart("related", std::move(related));
    }
    std::vector<GPtr<GMimeObject>> alternative;
    alternative.push_back(TextPart("plain", text));
    alternative.push_back(std::move(body));
    body = Multipart("alternative", std::move(alternative));
  } else {
    body = TextPart("plain", text);
  }
  std::vector<GPtr<GMimeObject>> mixed;
  for (std::size_t i = 0; i < m.attachments.size(); ++i) {
    // Without an HTML part nothing can reference an inline part: it is sent as an attachment.
    if (m.attachments[i].content_id.empty() || m.html.empty()) mixed.push_back(AttachmentPart(m.attachments[i], i));
  }
  if (!mixed.empty()) {
    mixed.insert(mixed.begin(), std::move(body));
    body = Multipart("mixed", std::move(mixed));
  }
  g_mime_message_set_mime_part(message.get(), body.get());

  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_object_write_to_stream(root, FormatOptions(), out.get()) < 0) {
    throw AppError::Internal("GMime could not write the message");
  }
  GByteArray* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  BuiltMessage built{std::string(reinterpret_cast<const char*>(array->data), array->len), std::move(id)};
  detail::CheckHeaderLines(built.bytes);
  return built;
}

std::string AsciiAddress(const std::string& email) {
  bool ascii_only =
      std::all_of(email.begin(), email.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii_only) return email;
  InitMime();
  GPtr<InternetAddress> box(internet_address_mailbox_new(nullptr, email.c_str()));
  const char* idn = internet_address_mailbox_get_idn_addr(INTERNET_ADDRESS_MAILBOX(box.get()));
  return idn == nullptr ? email : std::string(idn);
}

std::vector<std::string> EnvelopeRecipients(const OutgoingMessage& m) {
  std::vector<std::string> out;
  std::vector<std::string> keys;
  for (const auto* list : {&m.to, &m.cc, &m.bcc}) {
    for (const auto& box : *list) {
      std::string address = AsciiAddress(box.email);
      std::string key = ascii::ToLower(address);
      if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
      keys.push_back(std::move(key));
      out.push_back(std::move(address));
    }
  }
  return out;
}

}  // namespace poste::mail
