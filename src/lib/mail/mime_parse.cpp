#include "lib/mail/mime_parse.hpp"

#include <gmime/gmime.h>

#include <memory>
#include <utility>

#include "lib/error.hpp"
#include "lib/mail/entities.hpp"
#include "lib/mail/mime.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;

struct Unref {
  void operator()(gpointer p) const { g_object_unref(p); }
};
template <typename T>
using GPtr = std::unique_ptr<T, Unref>;

struct GFree {
  void operator()(gpointer p) const { g_free(p); }
};

std::string Str(const char* s) { return s == nullptr ? std::string() : SanitizeUtf8(s); }

std::string Bytes(GMimeStream* stream) {
  GByteArray* array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(stream));
  return {reinterpret_cast<const char*>(array->data), array->len};
}

// The part's content with its transfer encoding (base64, quoted-printable, uuencode) removed.
std::string Content(GMimePart* part) {
  GMimeDataWrapper* content = g_mime_part_get_content(part);
  if (content == nullptr) return {};
  GPtr<GMimeStream> out(g_mime_stream_mem_new());
  if (g_mime_data_wrapper_write_to_stream(content, out.get()) < 0) return {};
  return Bytes(out.get());
}

std::string ToUtf8(const std::string& bytes, const char* charset) {
  std::string name = charset == nullptr ? "" : ascii::ToLower(charset);
  if (name.empty() || name == "utf-8" || name == "utf8" || name == "us-ascii") return SanitizeUtf8(bytes);
  const char* iconv_name = g_mime_charset_iconv_name(charset);
  gsize written = 0;
  GError* error = nullptr;
  std::unique_ptr<char, GFree> converted(
      g_convert(bytes.data(), static_cast<gssize>(bytes.size()), "UTF-8", iconv_name, nullptr, &written, &error));
  if (error != nullptr) g_error_free(error);
  // An unknown charset or bytes that do not fit it: keep what is readable.
  if (!converted) return SanitizeUtf8(bytes);
  return SanitizeUtf8(std::string_view(converted.get(), written));
}

void AddMailboxes(InternetAddressList* list, std::vector<Mailbox>& out, int depth = 0) {
  if (list == nullptr) return;
  int count = internet_address_list_length(list);
  for (int i = 0; i < count && out.size() < kMaxRecipients; ++i) {
    InternetAddress* address = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(address)) {
      out.push_back({Str(internet_address_get_name(address)),
                     Str(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(address)))});
    } else if (INTERNET_ADDRESS_IS_GROUP(address) && depth == 0) {
      AddMailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(address)), out, depth + 1);
    }
  }
}

std::vector<std::string> MessageIds(const char* header) {
  std::vector<std::string> out;
  if (header == nullptr) return out;
  GMimeReferences* refs = g_mime_references_parse(nullptr, header);
  if (refs == nullptr) return out;
  int count = g_mime_references_length(refs);
  for (int i = 0; i < count && i < 100; ++i) out.push_back(Str(g_mime_references_get_message_id(refs, i)));
  g_mime_references_free(refs);
  return out;
}

std::string MimeType(GMimeObject* object) {
  GMimeContentType* type = g_mime_object_get_content_type(object);
  if (type == nullptr) return "application/octet-stream";
  std::unique_ptr<char, GFree> mime(g_mime_content_type_get_mime_type(type));
  return mime ? ascii::ToLower(Str(mime.get())) : "application/octet-stream";
}

void Leaf(GMimeObject* object, ParsedMessage& out) {
  std::string type = MimeType(object);
  if (GMIME_IS_MESSAGE_PART(object)) {
    ParsedAttachment a;
    a.content_type = type;
    a.filename = "message.eml";
    if (GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object))) {
      GPtr<GMimeStream> stream(g_mime_stream_mem_new());
      g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, stream.get());
      a.bytes = Bytes(stream.get());
    }
    out.attachments.push_back(std::move(a));
    return;
  }
  if (!GMIME_IS_PART(object)) return;
  GMimePart* part = GMIME_PART(object);
  const char* disposition = g_mime_object_get_disposition(object);
  const char* filename = g_mime_part_get_filename(part);
  bool attachment = (disposition != nullptr && ascii::ToLower(disposition) == "attachment") || filename != nullptr;
  if (!attachment && (type == "text/plain" || type == "text/html")) {
    std::string& body = type == "text/plain" ? out.text : out.html;
    if (body.empty()) {
      const char* charset = g_mime_object_get_content_type_parameter(object, "charset");
      body = ToLf(ToUtf8(Content(part), charset));
      return;
    }
  }
  ParsedAttachment a;
  a.filename = Str(filename);
  a.content_type = type;
  a.content_id = Str(g_mime_object_get_content_id(object));
  a.inline_part = disposition != nullptr && ascii::ToLower(disposition) == "inline";
  a.bytes = Content(part);
  out.attachments.push_back(std::move(a));
}

}  // namespace

const std::string* ParsedMessage::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (ascii::ToLower(key) == ascii::ToLower(name)) return &value;
  }
  return nullptr;
}

ParsedMessage ParseMessage(std::string_view bytes, const ParseLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    throw AppError(ErrorCode::kPayloadTooLarge, "The message is too large.");
  }
  InitMime();
  ParsedMessage out;
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  GPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!message) return out;  // not even headers: an empty message

  GMimeObject* root = GMIME_OBJECT(message.get());
  if (InternetAddressList* from = g_mime_message_get_from(message.get())) {
    std::vector<Mailbox> boxes;
    AddMailboxes(from, boxes);
    if (!boxes.empty()) out.from = boxes.front();
  }
  AddMailboxes(g_mime_message_get_to(message.get()), out.to);
  AddMailboxes(g_mime_message_get_cc(message.get()), out.cc);
  AddMailboxes(g_mime_message_get_reply_to(message.get()), out.reply_to);
  out.subject = Str(g_mime_message_get_subject(message.get()));
  out.message_id = Str(g_mime_message_get_message_id(message.get()));
  auto in_reply_to = MessageIds(g_mime_object_get_header(root, "In-Reply-To"));
  if (!in_reply_to.empty()) out.in_reply_to = in_reply_to.front();
  out.references = MessageIds(g_mime_object_get_header(root, "References"));
  if (GDateTime* date = g_mime_message_get_date(message.get())) out.date = g_date_time_to_unix(date);
  if (GMimeHeaderList* list = g_mime_object_get_header_list(root)) {
    int count = g_mime_header_list_get_count(list);
    for (int i = 0; i < count && i < 1000; ++i) {
      GMimeHeader* header = g_mime_header_list_get_header_at(list, i);
      out.headers.emplace_back(Str(g_mime_header_get_name(header)), Str(g_mime_header_get_value(header)));
    }
  }

  // Depth-first, iteratively: hostile nesting must not recurse on this thread's stack.
  std::vector<std::pair<GMimeObject*, std::size_t>> pending;
  if (GMimeObject* body = g_mime_message_get_mime_part(message.get())) pending.emplace_back(body, 0);
  std::size_t visited = 0;
  while (!pending.empty()) {
    auto [object, depth] = pending.back();
    pending.pop_back();
    if (++visited > limits.max_parts) {
      out.truncated = true;
      break;
    }
    if (GMIME_IS_MULTIPART(object)) {
      if (depth >= limits.max_depth) {
        out.truncated = true;
        continue;
      }
      GMimeMultipart* multipart = GMIME_MULTIPART(object);
      for (int i = g_mime_multipart_get_count(multipart); i-- > 0;) {
        pending.emplace_back(g_mime_multipart_get_part(multipart, i), depth + 1);
      }
      continue;
    }
    Leaf(object, out);
  }
  return out;
}

}  // namespace poste::mail
