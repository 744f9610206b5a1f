#include "lib/mail/address.hpp"

#include <array>
#include <utility>

#include "lib/validate/ascii.hpp"
#include "lib/validate/domain.hpp"
#include "lib/validate/email.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;

constexpr std::size_t kMaxLabel = 63;
constexpr std::size_t kMaxDomain = 253;

std::string Field(std::string_view prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  return std::string(prefix) + "." + std::string(name);
}

// A label of an internationalised domain: UTF-8 whose ASCII bytes are letters, digits or hyphens (no
// leading or trailing hyphen). Which code points IDNA 2008 allows is the DNS's business; what matters here
// is that nothing can break a header or an SMTP command.
bool IsValidIdnLabel(std::string_view label) {
  if (label.empty() || label.front() == '-' || label.back() == '-') return false;
  if (label.size() > kMaxLabel * 4) return false;  // a punycode label stays under 63 bytes; roughly
  for (char c : label) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) continue;
    if (!ascii::IsAlnum(c) && c != '-') return false;
  }
  return true;
}

bool HasNonAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

bool IsValidMailDomain(std::string_view domain) {
  if (!HasNonAscii(domain)) return validate::IsValidDomain(domain);
  if (domain.size() > kMaxDomain * 2 || !validate::IsValidUtf8(domain)) return false;
  if (validate::HasControlChars(domain, false)) return false;
  std::size_t labels = 0;
  while (true) {
    auto dot = domain.find('.');
    if (!IsValidIdnLabel(domain.substr(0, dot))) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return labels >= 2;
}

// C0 controls but TAB, DEL, C1 controls (U+0080..U+009F) and U+2028/U+2029, in valid UTF-8.
bool HasControl(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return true;
    auto next = i + 1 < s.size() ? static_cast<unsigned char>(s[i + 1]) : 0;
    if (u == 0xc2 && next >= 0x80 && next <= 0x9f) return true;
    if (u == 0xe2 && next == 0x80 && i + 2 < s.size()) {
      auto third = static_cast<unsigned char>(s[i + 2]);
      if (third == 0xa8 || third == 0xa9) return true;
    }
  }
  return false;
}

bool IsInjection(char c) { return c == '\r' || c == '\n' || c == '\0'; }

bool HasInjection(std::string_view s) {
  for (char c : s) {
    if (IsInjection(c)) return true;
  }
  return false;
}

// "Name" with its quotes: the inside, backslash escapes resolved; false on an unbalanced quote.
bool Unquote(std::string_view quoted, std::string& out) {
  if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return false;
  quoted = quoted.substr(1, quoted.size() - 2);
  out.clear();
  for (std::size_t i = 0; i < quoted.size(); ++i) {
    char c = quoted[i];
    if (c == '\\') {
      if (++i == quoted.size()) return false;
      out.push_back(quoted[i]);
    } else if (c == '"') {
      return false;
    } else {
      out.push_back(c);
    }
  }
  return true;
}

void CheckAddress(std::string_view email, std::string_view field, std::vector<FieldError>& errors) {
  if (ascii::Trim(email).empty()) {
    errors.push_back({std::string(field), "required", "An email address is required."});
  } else if (HasInjection(email)) {
    errors.push_back({std::string(field), "header_injection", "The address must not contain line breaks."});
  } else if (!IsValidAddress(email)) {
    errors.push_back({std::string(field), "invalid_email", "This is not a valid email address."});
  }
}

}  // namespace

bool IsValidAddress(std::string_view email) {
  if (email.size() > validate::kMaxEmail) return false;
  auto at = email.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string_view local = email.substr(0, at);
  if (local.size() > validate::kMaxEmailLocal || !validate::IsDotAtom(local)) return false;
  return IsValidMailDomain(email.substr(at + 1));
}

std::string NormalizeAddress(std::string_view email) { return validate::NormalizeEmail(email); }

Mailbox ParseMailbox(std::string_view text, std::string_view field, std::vector<FieldError>& errors) {
  Mailbox out;
  // Line breaks are refused before anything is trimmed away: "a@b.c\r\nBcc: x" must not become valid.
  if (HasInjection(text)) {
    errors.push_back({std::string(field), "header_injection", "The address must not contain line breaks."});
    return out;
  }
  text = ascii::Trim(text);
  std::size_t before = errors.size();
  if (!text.empty() && text.back() == '>') {
    auto open = text.rfind('<');
    if (open == std::string_view::npos) {
      errors.push_back({std::string(field), "invalid_email", "This is not a valid email address."});
      return out;
    }
    std::string_view name = ascii::Trim(text.substr(0, open));
    out.email = NormalizeAddress(text.substr(open + 1, text.size() - open - 2));
    if (!name.empty() && name.front() == '"') {
      if (!Unquote(name, out.name)) {
        errors.push_back({std::string(field), "invalid_email", "The quoted display name is not closed."});
        return out;
      }
    } else {
      out.name = std::string(name);
    }
  } else {
    out.email = NormalizeAddress(text);
  }
  CheckAddress(out.email, field, errors);
  if (errors.size() == before) CheckDisplayName(out.name, field, errors);
  return out;
}

Mailbox ParseMailbox(std::string_view text, std::string_view field) {
  std::vector<FieldError> errors;
  Mailbox out = ParseMailbox(text, field, errors);
  ThrowIfAny(std::move(errors));
  return out;
}

void CheckMailbox(const Mailbox& mailbox, std::string_view field, std::vector<FieldError>& errors) {
  CheckAddress(mailbox.email, Field(field, "email"), errors);
  CheckDisplayName(mailbox.name, Field(field, "name"), errors);
}

bool IsValidMailbox(const Mailbox& mailbox) {
  std::vector<FieldError> errors;  // allocates only when a problem is found
  CheckAddress(mailbox.email, {}, errors);
  CheckDisplayName(mailbox.name, {}, errors);
  return errors.empty();
}

void CheckDisplayName(std::string_view name, std::string_view field, std::vector<FieldError>& errors) {
  std::size_t before = errors.size();
  CheckHeaderValue(name, field, errors, kMaxDisplayName * 4);
  if (errors.size() == before && validate::Utf8Length(name) > kMaxDisplayName) {
    errors.push_back({std::string(field), "too_long", "The name is longer than 200 characters."});
  }
}

void CheckHeaderValue(std::string_view value, std::string_view field, std::vector<FieldError>& errors,
                      std::size_t max_bytes) {
  if (HasInjection(value)) {
    errors.push_back({std::string(field), "header_injection", "Line breaks and NUL are not allowed here."});
  } else if (!validate::IsValidUtf8(value)) {
    errors.push_back({std::string(field), "invalid_utf8", "The text is not valid UTF-8."});
  } else if (value.size() > max_bytes) {
    errors.push_back({std::string(field), "too_long", "The text is too long for a mail header."});
  } else if (HasControl(value)) {
    errors.push_back({std::string(field), "invalid_characters", "Control characters are not allowed here."});
  }
}

bool IsReservedHeader(std::string_view name) {
  static constexpr std::array<std::string_view, 24> kReserved = {"mime-version",
                                                                 "content-type",
                                                                 "content-transfer-encoding",
                                                                 "content-disposition",
                                                                 "content-id",
                                                                 "from",
                                                                 "to",
                                                                 "cc",
                                                                 "bcc",
                                                                 "reply-to",
                                                                 "sender",
                                                                 "subject",
                                                                 "date",
                                                                 "message-id",
                                                                 "in-reply-to",
                                                                 "references",
                                                                 "return-path",
                                                                 "received",
                                                                 "dkim-signature",
                                                                 "list-unsubscribe",
                                                                 "list-unsubscribe-post",
                                                                 "content-description",
                                                                 "content-location",
                                                                 "resent-from"};
  std::string lower = ascii::ToLower(name);
  for (auto reserved : kReserved) {
    if (lower == reserved) return true;
  }
  return lower.starts_with("content-") || lower.starts_with("resent-");
}

void CheckCustomHeaderName(std::string_view name, std::string_view field, std::vector<FieldError>& errors) {
  auto is_tchar = [](char c) {
    constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
    return ascii::IsAlnum(c) || kSpecials.find(c) != std::string_view::npos;
  };
  bool ok = !name.empty() && name.size() <= kMaxHeaderName;
  for (char c : name) ok = ok && is_tchar(c);
  if (!ok) {
    errors.push_back({std::string(field), "invalid_header_name",
                      "A header name is 1 to 76 letters, digits or !#$%&'*+-.^_`|~ (no spaces or colons)."});
  } else if (IsReservedHeader(name)) {
    errors.push_back({std::string(field), "reserved_header", "This header is set by Poste and cannot be overridden."});
  }
}

void ThrowIfAny(std::vector<FieldError> errors) {
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
}

}  // namespace poste::mail
