#include "modules/contacts/contacts_types.hpp"

#include <nlohmann/json.hpp>

#include "lib/validate/email.hpp"
#include "lib/validate/text.hpp"

namespace poste::contacts {

namespace {

constexpr std::int64_t kMaxClockSkewMs = 60'000;

void Append(std::vector<FieldError>& to, std::vector<FieldError> from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

std::vector<FieldError> ValidateText(std::string_view text, std::string_view field, std::size_t max_chars,
                                     bool required, bool multiline) {
  const std::string f(field);
  if (!validate::IsValidUtf8(text)) return {{f, "invalid_utf8", "must be valid UTF-8"}};
  if (validate::HasControlChars(text, multiline)) return {{f, "invalid_characters", "holds control characters"}};
  if (required && text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return {{f, "required", "is required"}};
  }
  if (validate::Utf8Length(text) > max_chars) {
    return {{f, "too_long", "at most " + std::to_string(max_chars) + " characters"}};
  }
  return {};
}

// A consent value from a form: checkbox "on", or the usual spellings of yes and no.
std::optional<bool> FormBool(std::string_view value) {
  for (auto yes : {"on", "true", "1", "yes"}) {
    if (value == yes) return true;
  }
  for (auto no : {"", "off", "false", "0", "no"}) {
    if (value == no) return false;
  }
  return std::nullopt;
}

std::optional<std::int64_t> ParseEpochMs(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  std::int64_t out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    out = out * 10 + (c - '0');
  }
  return out;
}

}  // namespace

Submission SubmissionFromJson(const nlohmann::json& json, std::vector<FieldError>& errors) {
  Submission out;
  const auto text = [&](const char* name, std::string& into) {
    auto it = json.find(name);
    if (it == json.end() || it->is_null()) return;
    if (!it->is_string()) return errors.push_back({name, "invalid_type", "must be a string"});
    into = it->get<std::string>();
  };
  text("name", out.name);
  text("email", out.email);
  text("subject", out.subject);
  text("message", out.message);
  text("page", out.page);
  // The honeypot accepts anything a bot may put there: a non-string is just as filled.
  if (auto it = json.find(kHoneypotField); it != json.end() && !it->is_null()) {
    out.website = it->is_string() ? it->get<std::string>() : it->dump();
  }
  if (auto it = json.find("consent"); it != json.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      errors.push_back({"consent", "invalid_type", "must be a boolean"});
    } else {
      out.consent = it->get<bool>();
    }
  }
  if (auto it = json.find("started_at"); it != json.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
      errors.push_back({"started_at", "invalid_type", "must be a time in epoch milliseconds"});
    } else {
      out.started_at = it->get<std::int64_t>();
    }
  }
  return out;
}

Submission SubmissionFromForm(const std::map<std::string, std::string, std::less<>>& form,
                              std::vector<FieldError>& errors) {
  Submission out;
  const auto text = [&](const char* name, std::string& into) {
    if (auto it = form.find(name); it != form.end()) into = it->second;
  };
  text("name", out.name);
  text("email", out.email);
  text("subject", out.subject);
  text("message", out.message);
  text("page", out.page);
  if (auto it = form.find(kHoneypotField); it != form.end()) out.website = it->second;
  if (auto it = form.find("consent"); it != form.end()) {
    auto value = FormBool(it->second);
    if (!value) {
      errors.push_back({"consent", "invalid_type", "must be on, true, 1, yes, off, false, 0 or no"});
    } else {
      out.consent = *value;
    }
  }
  if (auto it = form.find("started_at"); it != form.end() && !it->second.empty()) {
    out.started_at = ParseEpochMs(it->second);
    if (!out.started_at) errors.push_back({"started_at", "invalid_type", "must be a time in epoch milliseconds"});
  }
  return out;
}

std::vector<FieldError> Validate(const Submission& s) {
  std::vector<FieldError> errors;
  Append(errors, ValidateText(s.name, "name", kMaxNameChars, true, false));
  const std::string email = validate::NormalizeEmail(s.email);
  if (email.empty()) {
    errors.push_back({"email", "required", "is required"});
  } else if (!validate::IsValidEmail(email)) {
    errors.push_back({"email", "invalid", "must be an email address"});
  }
  Append(errors, ValidateText(s.subject, "subject", kMaxSubjectChars, false, false));
  Append(errors, ValidateText(s.message, "message", kMaxMessageChars, true, true));
  if (s.page.size() > kMaxPageBytes) {
    errors.push_back({"page", "too_long", "at most " + std::to_string(kMaxPageBytes) + " bytes"});
  } else {
    Append(errors, ValidateText(s.page, "page", kMaxPageBytes, false, false));
  }
  return errors;
}

SpamVerdict CheckSpam(const Submission& s, std::int64_t now_ms, std::int64_t min_fill_ms) {
  if (!s.website.empty()) return SpamVerdict::kHoneypot;
  if (s.started_at) {
    if (*s.started_at > now_ms + kMaxClockSkewMs) return SpamVerdict::kTooFast;
    if (now_ms - *s.started_at < min_fill_ms) return SpamVerdict::kTooFast;
  }
  return SpamVerdict::kAccept;
}

std::string_view NotifyStatusName(NotifyStatus status) {
  switch (status) {
    case NotifyStatus::kSent:
      return "sent";
    case NotifyStatus::kFailed:
      return "failed";
    case NotifyStatus::kPending:
      break;
  }
  return "pending";
}

NotifyStatus ParseNotifyStatus(std::string_view name) {
  if (name == "sent") return NotifyStatus::kSent;
  if (name == "failed") return NotifyStatus::kFailed;
  return NotifyStatus::kPending;
}

std::optional<StatusFilter> ParseStatusFilter(std::string_view text) {
  if (text == "inbox") return StatusFilter::kInbox;
  if (text == "unread") return StatusFilter::kUnread;
  if (text == "read") return StatusFilter::kRead;
  if (text == "archived") return StatusFilter::kArchived;
  if (text == "all") return StatusFilter::kAll;
  return std::nullopt;
}

nlohmann::json ToJson(const Contact& c) {
  return {{"id", c.id},
          {"site_id", c.site_id},
          {"name", c.name},
          {"email", c.email},
          {"subject", c.subject},
          {"message", c.message},
          {"page", c.page},
          {"consent", c.consent},
          {"ip_hash", c.ip_hash},
          {"user_agent", c.user_agent},
          {"read", c.read},
          {"archived", c.archived},
          {"notify_status", NotifyStatusName(c.notify_status)},
          {"notify_error", c.notify_error},
          {"created_at", c.created_at},
          {"updated_at", c.updated_at}};
}

}  // namespace poste::contacts
