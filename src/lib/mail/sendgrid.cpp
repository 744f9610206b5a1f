#include "lib/mail/sendgrid.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/random.hpp"
#include "lib/json_dump.hpp"
#include "lib/mail/html_text.hpp"
#include "lib/mail/provider_http.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/validate/domain.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;
using nlohmann::json;

json Address(const Mailbox& box) {
  json out = {{"email", AsciiAddress(box.email)}};
  if (!box.name.empty()) out["name"] = box.name;
  return out;
}

// SendGrid writes a recipient's name into the To / Cc header without quoting it: a name with a comma,
// a semicolon or another of these characters is split there and the message goes astray (SendGrid's
// documented limitation). Sent as a quoted-string, as SendGrid's support advises, it arrives whole.
// From and Reply-To names are quoted by SendGrid itself (quoting them here would show the quotes).
json RecipientAddress(const Mailbox& box) {
  json out = Address(box);
  if (box.name.find_first_of("(),:;<>@[]\\\"") == std::string::npos) return out;
  std::string quoted = "\"";
  for (char c : box.name) {
    if (c == '"' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  out["name"] = quoted + "\"";
  return out;
}

bool IsAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// SendGrid passes header values through as written: non-ASCII ones must arrive RFC 2047-encoded.
std::string HeaderValue(const std::string& value) {
  if (IsAscii(value)) return value;
  InitMime();
  char* encoded = g_mime_utils_header_encode_text(nullptr, value.c_str(), "utf-8");
  std::string out = encoded == nullptr ? value : encoded;
  g_free(encoded);
  // Folding is the MIME writer's business; a JSON header value is one line.
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n' || c == '\t'; }, ' ');
  return out;
}

std::string MessageIdFor(const Delivery& d) {
  if (d.built != nullptr && !d.built->message_id.empty()) return d.built->message_id;
  const OutgoingMessage& m = *d.message;
  if (!m.message_id.empty()) return BracketMessageId(m.message_id);
  std::string domain = m.message_id_domain;
  if (domain.empty()) domain = m.from.email.substr(m.from.email.rfind('@') + 1);
  if (!validate::IsValidDomain(domain)) domain = "poste.local";
  return "<" + crypto::HexEncode(crypto::RandomBytes(16)) + "@" + domain + ">";
}

std::string ReadAttachment(const Attachment& a, std::size_t index) {
  if (!a.bytes.empty() || a.path.empty()) return a.bytes;
  std::ifstream in(a.path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    throw AppError::Validation(
        {{"attachments[" + std::to_string(index) + "].path", "unreadable", "The attachment's file cannot be read."}});
  }
  return bytes;
}

json Attachments(const OutgoingMessage& m) {
  json out = json::array();
  for (std::size_t i = 0; i < m.attachments.size(); ++i) {
    const Attachment& a = m.attachments[i];
    // Without an HTML part nothing can show an inline part: it goes as an attachment (as in BuildMessage).
    const bool inline_part = !a.content_id.empty() && !m.html.empty();
    std::string filename = a.filename;
    std::replace(filename.begin(), filename.end(), '/', '_');
    std::replace(filename.begin(), filename.end(), '\\', '_');
    if (filename.empty()) filename = inline_part ? a.content_id : "attachment-" + std::to_string(i + 1);
    json item = {{"content", crypto::Base64Encode(ReadAttachment(a, i))},
                 {"filename", filename},
                 {"type", ascii::ToLower(a.content_type)},
                 {"disposition", inline_part ? "inline" : "attachment"}};
    if (inline_part) item["content_id"] = a.content_id;
    out.push_back(std::move(item));
  }
  return out;
}

json Headers(const Delivery& d) {
  const OutgoingMessage& m = *d.message;
  json out = json::object();
  out["Message-ID"] = MessageIdFor(d);
  if (!m.in_reply_to.empty()) out["In-Reply-To"] = BracketMessageId(m.in_reply_to);
  if (!m.references.empty()) {
    std::string refs;
    for (const auto& r : m.references) refs += (refs.empty() ? "" : " ") + BracketMessageId(r);
    out["References"] = refs;
  }
  if (!m.list_unsubscribe_url.empty() || !m.list_unsubscribe_mailto.empty()) {
    std::string value;
    for (const auto* u : {&m.list_unsubscribe_url, &m.list_unsubscribe_mailto}) {
      if (!u->empty()) value += (value.empty() ? "<" : ", <") + *u + ">";
    }
    out["List-Unsubscribe"] = value;
    if (!m.list_unsubscribe_url.empty()) out["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click";
  }
  // A repeated custom header becomes one, its values comma-separated: a JSON object has one value per name.
  for (const auto& [name, value] : m.headers) {
    std::string encoded = HeaderValue(value);
    auto existing = out.find(name);
    if (existing != out.end()) {
      *existing = existing->get<std::string>() + ", " + encoded;
    } else {
      out[name] = std::move(encoded);
    }
  }
  return out;
}

// to / cc / bcc with each address once (SendGrid refuses a personalization that repeats one), limited to
// the envelope recipients when the delivery names them (a retry for the recipients still missing).
json Personalizations(const Delivery& d) {
  const OutgoingMessage& m = *d.message;
  std::set<std::string> wanted;
  for (const auto& r : d.recipients) wanted.insert(ascii::ToLower(r));
  std::set<std::string> seen;
  json lists[3] = {json::array(), json::array(), json::array()};
  const std::vector<Mailbox>* sources[3] = {&m.to, &m.cc, &m.bcc};
  for (int k = 0; k < 3; ++k) {
    for (const auto& box : *sources[k]) {
      std::string key = ascii::ToLower(AsciiAddress(box.email));
      if ((!wanted.empty() && !wanted.contains(key)) || !seen.insert(key).second) continue;
      lists[k].push_back(RecipientAddress(box));
    }
  }
  json out = json::array();
  if (!lists[0].empty()) {
    json p = {{"to", lists[0]}};
    if (!lists[1].empty()) p["cc"] = lists[1];
    if (!lists[2].empty()) p["bcc"] = lists[2];
    out.push_back(std::move(p));
    return out;
  }
  // SendGrid needs a To address in every personalization: without one (Cc / Bcc only), each recipient
  // gets the message on its own, addressed to itself, so that no Bcc address is shown to anyone.
  for (int k = 1; k < 3; ++k) {
    for (auto& address : lists[k]) out.push_back({{"to", json::array({address})}});
  }
  if (out.empty()) {
    throw AppError::Validation({{"to", "required", "None of the message's recipients is left to send to."}});
  }
  return out;
}

}  // namespace

std::string SendGridMailBody(const Delivery& d) {
  if (d.message == nullptr) throw AppError::Internal("SendGrid: a delivery without its message");
  const OutgoingMessage& m = *d.message;
  std::vector<FieldError> errors;
  ValidateMessage(m, errors);
  ThrowIfAny(std::move(errors));

  json body;
  body["personalizations"] = Personalizations(d);
  body["from"] = Address(m.from);
  if (m.reply_to) body["reply_to"] = Address(*m.reply_to);
  // SendGrid requires a subject; an empty one is sent as a space, as mail clients show "(no subject)".
  body["subject"] = m.subject.empty() ? " " : m.subject;
  // text/plain first, then text/html: SendGrid refuses another order. Empty values are refused too, so a
  // message without any body is sent as one space.
  std::string text = m.text.empty() && !m.html.empty() ? HtmlToText(m.html) : m.text;
  json content = json::array();
  if (!text.empty() || m.html.empty())
    content.push_back({{"type", "text/plain"}, {"value", text.empty() ? " " : text}});
  if (!m.html.empty()) content.push_back({{"type", "text/html"}, {"value", m.html}});
  body["content"] = std::move(content);
  if (!m.attachments.empty()) body["attachments"] = Attachments(m);
  body["headers"] = Headers(d);
  return DumpJson(body);
}

SendGridTransport::SendGridTransport(SendGridOptions options, net::HttpClient http)
    : options_(std::move(options)), http_(std::move(http)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') options_.base_url.pop_back();
}

DeliveryResult SendGridTransport::Send(const Delivery& delivery) {
  DeliveryResult result;
  net::HttpRequest request;
  try {
    request.body = SendGridMailBody(delivery);
  } catch (const AppError& e) {
    result.outcome = DeliveryOutcome::kPermanent;
    std::string answer = "The message cannot be sent: " + e.message();
    for (const auto& f : e.fields()) answer += " " + f.field + ": " + f.message;
    result.answer = CleanAnswer(answer);
    return result;
  }
  request.method = "POST";
  request.url = options_.base_url + "/v3/mail/send";
  request.headers = {{"Authorization", "Bearer " + options_.api_key},
                     {"Content-Type", "application/json"},
                     {"Accept", "application/json"}};
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = options_.total_timeout;
  request.max_response_bytes = 16 * 1024;
  // The point of no return is the request (Delivery::on_commit).
  if (delivery.on_commit && !delivery.on_commit()) {
    result.outcome = DeliveryOutcome::kTemporary;
    result.answer = "withdrawn before sending";
    return result;
  }
  try {
    const net::HttpResponse response = http_.Send(request);
    result.outcome = OutcomeOfStatus(response.status);
    result.answer = HttpAnswer(response.status, response.body);
    if (result.outcome == DeliveryOutcome::kSent) {
      result.provider_message_id = CleanAnswer(response.Header("x-message-id"), 200);
    }
  } catch (const net::HttpError& e) {
    result = ResultOfHttpError(e);
  }
  return result;
}

DeliveryResult SendGridTransport::Check() {
  DeliveryResult result;
  net::HttpRequest request;
  request.method = "GET";
  request.url = options_.base_url + "/v3/scopes";
  request.headers = {{"Authorization", "Bearer " + options_.api_key}, {"Accept", "application/json"}};
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = std::min(options_.total_timeout, std::chrono::milliseconds(15000));
  try {
    const net::HttpResponse response = http_.Send(request);
    result.answer = HttpAnswer(response.status, response.body);
    result.outcome = OutcomeOfStatus(response.status);
    if (result.outcome != DeliveryOutcome::kSent) return result;
    // The key works; whether it may send is in its scopes.
    json parsed = json::parse(response.body, nullptr, false);
    if (response.truncated || !parsed.is_object() || !parsed.contains("scopes") || !parsed["scopes"].is_array()) {
      result.outcome = DeliveryOutcome::kTemporary;
      result.answer = "SendGrid's answer to GET /v3/scopes is not the expected JSON. " + result.answer;
      result.answer = CleanAnswer(result.answer);
      return result;
    }
    const auto& scopes = parsed["scopes"];
    const bool can_send = std::any_of(scopes.begin(), scopes.end(), [](const json& s) {
      return s.is_string() && s.get<std::string>() == "mail.send";
    });
    if (can_send) {
      result.answer = "HTTP " + std::to_string(response.status) + ": the API key works and has the mail.send scope (" +
                      std::to_string(scopes.size()) + " scopes in all).";
    } else {
      result.outcome = DeliveryOutcome::kPermanent;
      result.answer = "HTTP " + std::to_string(response.status) +
                      ": the API key works but lacks the mail.send scope; give it \"Mail Send\" access in SendGrid.";
    }
  } catch (const net::HttpError& e) {
    result = ResultOfHttpError(e);
  }
  return result;
}

}  // namespace poste::mail
