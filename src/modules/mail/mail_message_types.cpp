#include "modules/mail/mail_message_types.hpp"

#include <algorithm>

#include "lib/validate/text.hpp"
#include "modules/mail/mail_account_json.hpp"

namespace poste::mail {

namespace {

nlohmann::json BoxJson(const Mailbox& m) { return {{"email", m.email}, {"name", m.name}}; }

nlohmann::json BoxesJson(const std::vector<Mailbox>& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& m : list) out.push_back(BoxJson(m));
  return out;
}

std::vector<Mailbox> BoxesFrom(const nlohmann::json& j) {
  std::vector<Mailbox> out;
  if (!j.is_array()) return out;
  for (const auto& m : j) {
    if (m.is_object()) out.push_back({m.value("name", ""), m.value("email", "")});
  }
  return out;
}

nlohmann::json Optional(const std::optional<std::int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

// One recipient: "a@b.c", "Name <a@b.c>" or {"email", "name"}.
std::optional<Mailbox> ReadMailbox(const nlohmann::json& v, const std::string& field, std::vector<FieldError>& errors) {
  if (v.is_string()) {
    const std::size_t before = errors.size();
    auto box = ParseMailbox(v.get<std::string>(), field, errors);
    if (errors.size() != before) return std::nullopt;
    box.email = NormalizeAddress(box.email);
    return box;
  }
  if (v.is_object()) {
    std::vector<FieldError> found;
    json_field::OnlyKnown(v, {"email", "name"}, found, field + ".");
    Mailbox box{json_field::String(v, "name", found, field + ".").value_or(""),
                json_field::String(v, "email", found, field + ".").value_or("")};
    const std::size_t before = found.size();
    CheckMailbox(box, field, found);
    errors.insert(errors.end(), found.begin(), found.end());
    if (found.size() != before || !found.empty()) return std::nullopt;
    box.email = NormalizeAddress(box.email);
    return box;
  }
  errors.push_back({field, "invalid_type", "an address or {\"email\", \"name\"}"});
  return std::nullopt;
}

std::vector<Mailbox> ReadMailboxes(const nlohmann::json& body, const std::string& name,
                                   std::vector<FieldError>& errors) {
  std::vector<Mailbox> out;
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return out;
  if (it->is_string() || it->is_object()) {  // one recipient without the array
    if (auto box = ReadMailbox(*it, name + "[0]", errors)) out.push_back(*box);
    return out;
  }
  if (!it->is_array()) {
    errors.push_back({name, "invalid_type", "an array of recipients"});
    return out;
  }
  if (it->size() > kMaxRecipients) {
    errors.push_back({name, "too_many", "at most " + std::to_string(kMaxRecipients) + " recipients"});
    return out;
  }
  for (std::size_t i = 0; i < it->size(); ++i) {
    if (auto box = ReadMailbox((*it)[i], name + "[" + std::to_string(i) + "]", errors)) out.push_back(*box);
  }
  return out;
}

// One custom header, its name and value within their caps (their characters are checked when the message is
// validated).
void AddHeader(MessageRequest& r, const std::string& field, std::string name, std::string value,
               std::vector<FieldError>& errors) {
  if (name.empty() || name.size() > kMaxHeaderNameBytes) {
    errors.push_back({field + ".name", "invalid_value", "1 to 76 characters"});
  } else if (value.size() > kMaxHeaderValueBytes) {
    errors.push_back({field + ".value", "too_long", "at most 998 bytes"});
  } else {
    r.headers.emplace_back(std::move(name), std::move(value));
  }
}

void ReadHeaders(const nlohmann::json& body, MessageRequest& r, std::vector<FieldError>& errors) {
  auto it = body.find("headers");
  if (it == body.end() || it->is_null()) return;
  if (!it->is_object() && !it->is_array()) {
    errors.push_back({"headers", "invalid_type", "an object of names to values"});
    return;
  }
  if (it->size() > kMaxCustomHeaders) {
    errors.push_back({"headers", "too_many", "at most " + std::to_string(kMaxCustomHeaders) + " headers"});
    return;
  }
  std::size_t i = 0;
  for (auto h = it->begin(); h != it->end(); ++h, ++i) {
    const std::string field = "headers[" + std::to_string(i) + "]";
    if (it->is_object()) {
      if (!h.value().is_string()) {
        errors.push_back({field + ".value", "invalid_type", "must be a string"});
      } else {
        AddHeader(r, field, h.key(), h.value().get<std::string>(), errors);
      }
      continue;
    }
    const auto& v = h.value();
    if (!v.is_object() || !v.contains("name") || !v["name"].is_string() || !v.contains("value") ||
        !v["value"].is_string()) {
      errors.push_back({field, "invalid_type", "{\"name\", \"value\"} strings"});
    } else {
      AddHeader(r, field, v["name"].get<std::string>(), v["value"].get<std::string>(), errors);
    }
  }
}

// A message id of In-Reply-To or References: one line, within its cap.
bool FitsMessageId(const std::string& id, const std::string& field, std::vector<FieldError>& errors) {
  if (id.size() > kMaxMessageIdBytes) {
    errors.push_back({field, "too_long", "at most 998 bytes"});
    return false;
  }
  return true;
}

void ReadReferences(const nlohmann::json& body, MessageRequest& r, std::vector<FieldError>& errors) {
  auto it = body.find("references");
  if (it == body.end() || it->is_null()) return;
  std::vector<std::string> found;
  if (it->is_string()) {
    const std::string& all = it->get_ref<const std::string&>();
    std::size_t at = 0;
    while (at < all.size() && found.size() <= kMaxReferences) {
      auto end = all.find_first_of(" \t", at);
      if (end == std::string::npos) end = all.size();
      if (end > at) found.push_back(all.substr(at, end - at));
      at = end + 1;
    }
  } else if (it->is_array() && std::all_of(it->begin(), it->end(), [](const auto& v) { return v.is_string(); })) {
    for (std::size_t i = 0; i < it->size() && found.size() <= kMaxReferences; ++i) found.push_back((*it)[i]);
  } else {
    errors.push_back({"references", "invalid_type", "an array of message ids"});
    return;
  }
  if (found.size() > kMaxReferences) {
    errors.push_back({"references", "too_many", "at most " + std::to_string(kMaxReferences) + " references"});
    return;
  }
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (FitsMessageId(found[i], "references[" + std::to_string(i) + "]", errors)) r.references.push_back(found[i]);
  }
}

void ReadCompose(const nlohmann::json& body, ComposeRequest& c, std::vector<FieldError>& errors) {
  if (auto id = json_field::Int(body, "template_id", errors)) {
    if (*id < 1) {
      errors.push_back({"template_id", "invalid_value", "a template id of the site"});
    } else {
      c.template_id = *id;
    }
  }
  if (auto it = body.find("variables"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) {
      errors.push_back({"variables", "invalid_type", "an object of names to values"});
    } else if (!c.template_id) {
      errors.push_back({"variables", "unexpected", "variables go with a template_id"});
    } else {
      c.variables = *it;
    }
  }
  if (auto it = body.find("signature"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      errors.push_back({"signature", "invalid_type", "must be a boolean"});
    } else {
      c.signature = it->get<bool>();
    }
  }
}

void ReadBody(const nlohmann::json& body, const char* name, std::string& out, std::vector<FieldError>& errors) {
  out = json_field::String(body, name, errors).value_or("");
  if (out.size() > kMaxBodyBytes) errors.push_back({name, "too_long", "at most 2 MiB"});
}

}  // namespace

std::string_view MessageStateName(MessageState state) {
  switch (state) {
    case MessageState::kSending:
      return "sending";
    case MessageState::kSent:
      return "sent";
    case MessageState::kFailed:
      return "failed";
    case MessageState::kCancelled:
      return "cancelled";
    case MessageState::kQueued:
      break;
  }
  return "queued";
}

std::optional<MessageState> ParseMessageState(std::string_view name) {
  for (auto s : {MessageState::kQueued, MessageState::kSending, MessageState::kSent, MessageState::kFailed,
                 MessageState::kCancelled}) {
    if (MessageStateName(s) == name) return s;
  }
  return std::nullopt;
}

nlohmann::json RequestToJson(const MessageRequest& r) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : r.headers) headers.push_back({{"name", name}, {"value", value}});
  nlohmann::json files = nlohmann::json::array();
  for (const auto& f : r.files) {
    files.push_back({{"filename", f.filename}, {"content_type", f.content_type}, {"path", f.path}});
  }
  return {{"to", BoxesJson(r.to)},
          {"cc", BoxesJson(r.cc)},
          {"bcc", BoxesJson(r.bcc)},
          {"reply_to", r.reply_to ? BoxJson(*r.reply_to) : nlohmann::json()},
          {"subject", r.subject},
          {"html", r.html},
          {"text", r.text},
          {"headers", std::move(headers)},
          {"in_reply_to", r.in_reply_to},
          {"references", r.references},
          {"attachments", r.attachments},
          {"send_at", Optional(r.send_at_ms)},
          {"list_unsubscribe_url", r.list_unsubscribe_url},
          {"list_unsubscribe_mailto", r.list_unsubscribe_mailto},
          {"files", std::move(files)}};
}

MessageRequest RequestFromJson(const nlohmann::json& j) {
  MessageRequest r;
  if (!j.is_object()) return r;
  r.to = BoxesFrom(j.value("to", nlohmann::json()));
  r.cc = BoxesFrom(j.value("cc", nlohmann::json()));
  r.bcc = BoxesFrom(j.value("bcc", nlohmann::json()));
  if (j.contains("reply_to") && j["reply_to"].is_object()) {
    r.reply_to = Mailbox{j["reply_to"].value("name", ""), j["reply_to"].value("email", "")};
  }
  r.subject = j.value("subject", "");
  r.html = j.value("html", "");
  r.text = j.value("text", "");
  if (j.contains("headers") && j["headers"].is_array()) {
    for (const auto& h : j["headers"]) {
      if (h.is_object()) r.headers.emplace_back(h.value("name", ""), h.value("value", ""));
    }
  }
  r.in_reply_to = j.value("in_reply_to", "");
  if (j.contains("references") && j["references"].is_array()) {
    for (const auto& ref : j["references"]) {
      if (ref.is_string()) r.references.push_back(ref);
    }
  }
  if (j.contains("attachments") && j["attachments"].is_array()) {
    for (const auto& a : j["attachments"]) {
      if (a.is_number_integer()) r.attachments.push_back(a);
    }
  }
  if (j.contains("send_at") && j["send_at"].is_number_integer()) r.send_at_ms = j["send_at"].get<std::int64_t>();
  r.list_unsubscribe_url = j.value("list_unsubscribe_url", "");
  r.list_unsubscribe_mailto = j.value("list_unsubscribe_mailto", "");
  if (j.contains("files") && j["files"].is_array()) {
    for (const auto& f : j["files"]) {
      if (!f.is_object()) continue;
      Attachment a;
      a.filename = f.value("filename", "");
      a.content_type = f.value("content_type", "application/octet-stream");
      a.path = f.value("path", "");
      r.files.push_back(std::move(a));
    }
  }
  return r;
}

nlohmann::json ToJson(const Message& m, bool full) {
  auto request = RequestToJson(m.request);
  nlohmann::json out = {{"id", m.id},
                        {"site_id", m.site_id},
                        {"account_id", Optional(m.account_id)},
                        {"state", MessageStateName(m.state)},
                        {"message_id", m.message_id},
                        {"to", request["to"]},
                        {"cc", request["cc"]},
                        {"bcc", request["bcc"]},
                        {"reply_to", request["reply_to"]},
                        {"subject", m.request.subject},
                        {"send_at", Optional(m.request.send_at_ms)},
                        {"attempts", m.attempts},
                        {"provider_message_id", m.provider_message_id},
                        {"last_error", m.last_error},
                        {"refused_recipients", m.refused_recipients},
                        {"idempotency_key", m.idempotency_key ? nlohmann::json(*m.idempotency_key) : nlohmann::json()},
                        {"sent_at", Optional(m.sent_at)},
                        {"created_at", m.created_at},
                        {"updated_at", m.updated_at}};
  if (full) {
    for (const char* key : {"html", "text", "headers", "in_reply_to", "references", "attachments"}) {
      out[key] = request[key];
    }
    // Forwarded files by name and type (where they are kept is the server's business).
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : m.request.files) files.push_back({{"filename", f.filename}, {"content_type", f.content_type}});
    out["files"] = std::move(files);
  }
  return out;
}

MessageRequest ParseMessageRequest(const nlohmann::json& body, std::optional<std::string>& send_at,
                                   std::optional<std::string>& idempotency_key, std::vector<FieldError>& errors,
                                   ComposeRequest* compose) {
  MessageRequest r;
  std::vector<std::string> known = {
      "account_id", "to",      "cc",          "bcc",        "reply_to",    "subject", "html",
      "text",       "headers", "in_reply_to", "references", "attachments", "send_at", "idempotency_key"};
  if (compose) known.insert(known.end(), {"template_id", "variables", "signature"});
  json_field::OnlyKnown(body, known, errors);
  if (compose) ReadCompose(body, *compose, errors);
  if (auto id = json_field::Int(body, "account_id", errors)) {
    if (*id < 1) {
      errors.push_back({"account_id", "invalid_value", "an account id of the site"});
    } else {
      r.account_id = *id;
    }
  }
  r.to = ReadMailboxes(body, "to", errors);
  r.cc = ReadMailboxes(body, "cc", errors);
  r.bcc = ReadMailboxes(body, "bcc", errors);
  if (auto it = body.find("reply_to"); it != body.end() && !it->is_null())
    r.reply_to = ReadMailbox(*it, "reply_to", errors);
  r.subject = json_field::String(body, "subject", errors).value_or("");
  ReadBody(body, "html", r.html, errors);
  ReadBody(body, "text", r.text, errors);
  const bool from_template = compose && compose->template_id;
  if (!from_template) {
    // A subject of the wrong type is reported as such, not also as missing.
    if (!body.contains("subject") || body["subject"].is_string() || body["subject"].is_null()) {
      RequireContent(r, errors);
    } else if (r.html.empty() && r.text.empty()) {
      errors.push_back({"text", "required", "an html or a text body"});
    }
  }
  ReadHeaders(body, r, errors);
  r.in_reply_to = json_field::String(body, "in_reply_to", errors).value_or("");
  if (!FitsMessageId(r.in_reply_to, "in_reply_to", errors)) r.in_reply_to.clear();
  ReadReferences(body, r, errors);
  if (auto it = body.find("attachments"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) {
      errors.push_back({"attachments", "invalid_type", "an array of media ids"});
    } else if (it->size() > kMaxAttachments) {
      errors.push_back({"attachments", "too_many", "at most 20 attachments"});
    } else {
      for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& v = (*it)[i];
        if (!v.is_number_integer() || v.get<std::int64_t>() < 1) {
          errors.push_back({"attachments[" + std::to_string(i) + "]", "invalid_type", "a media id"});
        } else {
          r.attachments.push_back(v.get<std::int64_t>());
        }
      }
    }
  }
  send_at = json_field::String(body, "send_at", errors);
  idempotency_key = json_field::String(body, "idempotency_key", errors);
  return r;
}

void RequireContent(const MessageRequest& r, std::vector<FieldError>& errors) {
  // RFC 5322 allows an empty subject, but in an API call it is almost always a mistake.
  if (r.subject.empty()) errors.push_back({"subject", "required", "a subject"});
  if (r.html.empty() && r.text.empty()) errors.push_back({"text", "required", "an html or a text body"});
}

}  // namespace poste::mail
