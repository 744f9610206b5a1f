#include "modules/inbox/inbox_types.hpp"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

#include "lib/validate/text.hpp"

namespace poste::inbox {

namespace {

void CheckText(std::vector<FieldError>& errors, const std::optional<std::string>& value, const char* field,
               std::size_t max_bytes, bool required) {
  if (!value) {
    if (required) errors.push_back({field, "required", "is required"});
    return;
  }
  if (!validate::IsValidUtf8(*value)) return errors.push_back({field, "invalid_utf8", "must be valid UTF-8"});
  if (validate::HasControlChars(*value, false)) {
    return errors.push_back({field, "invalid_characters", "holds control characters"});
  }
  if (required && value->find_first_not_of(" \t") == std::string::npos) {
    return errors.push_back({field, "required", "is required"});
  }
  if (value->size() > max_bytes) {
    errors.push_back({field, "too_long", "at most " + std::to_string(max_bytes) + " bytes"});
  }
}

bool ValidHost(std::string_view host) {
  if (host.empty() || host.size() > kMaxHostBytes) return false;
  if (host.find(':') != std::string_view::npos) {  // an IPv6 literal
    return std::all_of(host.begin(), host.end(),
                       [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; });
  }
  std::size_t label = 0;
  for (std::size_t i = 0; i <= host.size(); ++i) {
    if (i == host.size() || host[i] == '.') {
      if (label == 0 || label > 63 || host[i - 1] == '-' || host[i - label] == '-') return false;
      label = 0;
      continue;
    }
    const char c = host[i];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    ++label;
  }
  return true;
}

nlohmann::json AddressesJson(const std::vector<Address>& list) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& a : list) out.push_back(AddressJson(a));
  return out;
}

nlohmann::json Nullable(const std::optional<std::int64_t>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json();
}

}  // namespace

AccountInput AccountInputFromJson(const nlohmann::json& json, bool creating, std::vector<FieldError>& errors) {
  AccountInput in;
  const auto text = [&](const char* name, std::optional<std::string>& into) {
    auto it = json.find(name);
    if (it == json.end() || it->is_null()) return;
    if (!it->is_string()) return errors.push_back({name, "invalid_type", "must be a string"});
    into = it->get<std::string>();
  };
  text("name", in.name);
  text("host", in.host);
  text("tls", in.tls);
  text("username", in.username);
  text("password", in.password);
  text("mailbox", in.mailbox);
  if (auto it = json.find("port"); it != json.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > 65535) {
      errors.push_back({"port", "invalid", "must be an integer in 1..65535"});
    } else {
      in.port = it->get<int>();
    }
  }
  if (auto it = json.find("site_id"); it != json.end() && !it->is_null()) {
    if (!creating) {
      errors.push_back({"site_id", "read_only", "an account cannot move to another owner"});
    } else if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
      errors.push_back({"site_id", "invalid_type", "must be a positive integer"});
    } else {
      in.site_id = it->get<std::int64_t>();
    }
  }
  return in;
}

std::vector<FieldError> Validate(const AccountInput& in, bool creating) {
  std::vector<FieldError> errors;
  CheckText(errors, in.name, "name", kMaxNameChars * 4, creating);
  CheckText(errors, in.host, "host", kMaxHostBytes, creating);
  if (in.host && !in.host->empty() && !ValidHost(*in.host)) {
    errors.push_back({"host", "invalid", "must be a host name or an IP address"});
  }
  if (in.tls && *in.tls != "none" && *in.tls != "starttls" && *in.tls != "implicit") {
    errors.push_back({"tls", "invalid", "one of none, starttls, implicit"});
  }
  CheckText(errors, in.username, "username", kMaxUsernameBytes, creating);
  if (in.password) {
    if (in.password->empty() && creating) errors.push_back({"password", "required", "is required"});
    if (validate::HasControlChars(*in.password, false) || !validate::IsValidUtf8(*in.password)) {
      errors.push_back({"password", "invalid_characters", "holds control characters or invalid UTF-8"});
    } else if (in.password->size() > kMaxPasswordBytes) {
      errors.push_back({"password", "too_long", "at most 1024 bytes"});
    }
  } else if (creating) {
    errors.push_back({"password", "required", "is required"});
  }
  if (in.mailbox) {
    const bool printable = !in.mailbox->empty() && std::all_of(in.mailbox->begin(), in.mailbox->end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u >= 0x20 && u < 0x7F;
    });
    if (!printable || in.mailbox->size() > kMaxMailboxBytes) {
      errors.push_back({"mailbox", "invalid", "1..200 printable ASCII characters"});
    }
  }
  return errors;
}

nlohmann::json ToJson(const Account& a) {
  return {{"id", a.id},
          {"name", a.name},
          {"owner", a.site_id ? "site" : "user"},
          {"site_id", Nullable(a.site_id)},
          {"host", a.host},
          {"port", a.port},
          {"tls", a.tls},
          {"username", a.username},
          {"password_set", !a.sealed_password.empty()},
          {"mailbox", a.mailbox},
          {"uidvalidity", a.uidvalidity},
          {"last_uid", a.last_uid},
          {"last_sync_at", Nullable(a.last_sync_at)},
          {"last_error", a.last_error},
          {"created_at", a.created_at},
          {"updated_at", a.updated_at}};
}

std::string Snippet(std::string_view text) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < text.size() && out.size() < 200;) {
    const auto u = static_cast<unsigned char>(text[i]);
    if (u == '\n' || u == '\r' || u == '\t' || u == ' ') {
      space = !out.empty();
      ++i;
      continue;
    }
    const std::size_t len = u < 0x80 ? 1 : (u >> 5) == 0x6 ? 2 : (u >> 4) == 0xE ? 3 : (u >> 3) == 0x1E ? 4 : 1;
    if (space) out += ' ';
    space = false;
    out.append(text.substr(i, len));
    i += len;
  }
  return out;
}

nlohmann::json AddressJson(const Address& a) { return {{"name", a.name}, {"email", a.email}}; }

nlohmann::json SummaryJson(const MessageSummary& m) {
  return {{"id", m.id},
          {"account_id", m.account_id},
          {"thread_id", m.thread_id},
          {"message_id", m.message_id},
          {"subject", m.subject},
          {"from", AddressJson(m.from)},
          {"to", AddressesJson(m.to)},
          {"sent_at", Nullable(m.sent_at)},
          {"snippet", m.snippet},
          {"read", m.read},
          {"archived", m.archived},
          {"truncated", m.truncated},
          {"attachment_count", m.attachment_count},
          {"size", m.size},
          {"created_at", m.created_at}};
}

nlohmann::json DetailJson(const Message& m, const std::vector<Attachment>& attachments) {
  nlohmann::json out = SummaryJson(m);
  out["snippet"] = Snippet(m.text);  // a Message built elsewhere than the store has no snippet set
  out["in_reply_to"] = m.in_reply_to;
  out["references"] = m.references;
  out["cc"] = AddressesJson(m.cc);
  out["reply_to"] = AddressesJson(m.reply_to);
  out["text"] = m.text;
  out["html"] = m.html;
  out["html_sanitized"] = false;
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : attachments) {
    list.push_back(
        {{"index", a.position},
         {"filename", a.filename},
         {"content_type", a.content_type},
         {"content_id", a.content_id},
         {"inline", a.inline_part},
         {"size", a.size},
         {"available", !a.path.empty()},
         {"url", "/api/v1/inbox/messages/" + std::to_string(m.id) + "/attachments/" + std::to_string(a.position)}});
  }
  out["attachments"] = std::move(list);
  return out;
}

std::string SafeFileName(std::string_view name) {
  std::string out;
  for (char c : name) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
    out += ok ? c : '_';
    if (out.size() >= 100) break;
  }
  while (!out.empty() && out.front() == '.') out.erase(0, 1);
  if (out.find_first_not_of("._") == std::string::npos) return "attachment";
  return out;
}

}  // namespace poste::inbox
