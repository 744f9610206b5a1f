// The checks BuildMessage runs before it builds anything (mime.cpp builds).
#include "lib/mail/mime.hpp"

#include <algorithm>
#include <filesystem>

#include "lib/mail/mime_detail.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;

std::string Indexed(std::string_view field, std::size_t i) {
  return std::string(field) + "[" + std::to_string(i) + "]";
}

bool IsToken(std::string_view s) {
  if (s.empty() || s.size() > 127) return false;
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return ascii::IsAlnum(c) || kSpecials.find(c) != std::string_view::npos; });
}

bool IsPrintableAscii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '<' && c != '>'; });
}

void CheckUnsubscribe(std::string_view value, std::string_view scheme, std::string_view field,
                      std::vector<FieldError>& errors) {
  if (value.empty()) return;
  std::vector<FieldError> found;
  CheckHeaderValue(value, field, found);
  if (!found.empty()) {
    errors.insert(errors.end(), found.begin(), found.end());
    return;
  }
  bool scheme_ok = ascii::ToLower(value.substr(0, scheme.size())) == scheme ||
                   (scheme == "https://" && ascii::ToLower(value.substr(0, 7)) == "http://");
  if (!scheme_ok || !IsPrintableAscii(value) || value.size() <= scheme.size()) {
    errors.push_back(
        {std::string(field), "invalid_url", "Expected a " + std::string(scheme) + " URL without spaces or <>."});
  }
}

}  // namespace

namespace detail {

void CheckRecipients(const std::vector<Mailbox>& to, const std::vector<Mailbox>& cc, const std::vector<Mailbox>& bcc,
                     std::vector<FieldError>& errors) {
  if (to.empty() && cc.empty() && bcc.empty()) {
    errors.push_back({"to", "required", "At least one recipient is required."});
  }
  if (to.size() + cc.size() + bcc.size() > kMaxRecipients) {
    errors.push_back({"to", "too_many", "At most 1000 recipients per message."});
  }
  for (auto [field, list] : {std::pair{"to", &to}, std::pair{"cc", &cc}, std::pair{"bcc", &bcc}}) {
    for (std::size_t i = 0; i < list->size(); ++i) {
      // The field's name is made only for a mailbox with a problem: a campaign checks one per message.
      if (!IsValidMailbox((*list)[i])) CheckMailbox((*list)[i], Indexed(field, i), errors);
    }
  }
}

void CheckMessageId(std::string_view id, std::string_view field, std::vector<FieldError>& errors) {
  if (BracketMessageId(id).empty()) {
    errors.push_back({std::string(field), "invalid_message_id", "This is not a valid message id (<local@domain>)."});
  }
}

void CheckUnsubscribeLinks(const OutgoingMessage& m, std::vector<FieldError>& errors) {
  CheckUnsubscribe(m.list_unsubscribe_url, "https://", "list_unsubscribe_url", errors);
  CheckUnsubscribe(m.list_unsubscribe_mailto, "mailto:", "list_unsubscribe_mailto", errors);
}

}  // namespace detail

std::string BracketMessageId(std::string_view id) {
  id = ascii::Trim(id);
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  auto at = id.find('@');
  if (id.empty() || id.size() > 250 || !IsPrintableAscii(id) || at == std::string_view::npos || at == 0 ||
      at + 1 == id.size()) {
    return {};
  }
  return "<" + std::string(id) + ">";
}

void ValidateMessage(const OutgoingMessage& m, std::vector<FieldError>& errors) {
  CheckMailbox(m.from, "from", errors);
  detail::CheckRecipients(m.to, m.cc, m.bcc, errors);
  if (m.reply_to) CheckMailbox(*m.reply_to, "reply_to", errors);
  CheckHeaderValue(m.subject, "subject", errors);
  for (auto [field, body] : {std::pair{"html", &m.html}, std::pair{"text", &m.text}}) {
    if (!validate::IsValidUtf8(*body)) errors.push_back({field, "invalid_utf8", "The text is not valid UTF-8."});
  }
  if (!m.in_reply_to.empty()) detail::CheckMessageId(m.in_reply_to, "in_reply_to", errors);
  if (!m.message_id.empty()) detail::CheckMessageId(m.message_id, "message_id", errors);
  if (m.references.size() > 100) errors.push_back({"references", "too_many", "At most 100 references."});
  for (std::size_t i = 0; i < m.references.size() && i < 100; ++i) {
    detail::CheckMessageId(m.references[i], Indexed("references", i), errors);
  }
  for (std::size_t i = 0; i < m.headers.size(); ++i) {
    CheckCustomHeaderName(m.headers[i].first, Indexed("headers", i) + ".name", errors);
    CheckHeaderValue(m.headers[i].second, Indexed("headers", i) + ".value", errors);
  }
  detail::CheckUnsubscribeLinks(m, errors);
  std::size_t total = 0;
  for (std::size_t i = 0; i < m.attachments.size(); ++i) {
    const Attachment& a = m.attachments[i];
    std::string field = Indexed("attachments", i);
    std::vector<FieldError> found;
    CheckHeaderValue(a.filename, field + ".filename", found, 255);
    auto slash = a.content_type.find('/');
    if (slash == std::string::npos || !IsToken(a.content_type.substr(0, slash)) ||
        !IsToken(a.content_type.substr(slash + 1))) {
      found.push_back({field + ".content_type", "invalid_content_type", "Expected type/subtype, e.g. image/png."});
    } else if (ascii::ToLower(a.content_type).starts_with("multipart/") ||
               ascii::ToLower(a.content_type).starts_with("message/")) {
      found.push_back({field + ".content_type", "invalid_content_type", "Containers cannot be attached as such."});
    }
    if (!a.content_id.empty() && (a.content_id.size() > 200 || !IsPrintableAscii(a.content_id))) {
      found.push_back({field + ".content_id", "invalid_content_id", "A content id is printable ASCII without <>."});
    }
    std::error_code ec;
    std::size_t size = a.bytes.size();
    if (a.bytes.empty() && !a.path.empty()) {
      auto on_disk = std::filesystem::file_size(a.path, ec);
      if (ec) {
        found.push_back({field + ".path", "unreadable", "The attachment's file cannot be read."});
      } else {
        size = static_cast<std::size_t>(on_disk);
      }
    }
    total += size;
    errors.insert(errors.end(), found.begin(), found.end());
  }
  if (total > kMaxAttachmentBytes) {
    errors.push_back({"attachments", "too_large", "Attachments may total at most 25 MiB."});
  }
}

}  // namespace poste::mail
