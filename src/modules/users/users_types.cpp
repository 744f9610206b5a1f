#include "modules/users/users_types.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "lib/validate/ascii.hpp"

namespace poste::users {
namespace {

FieldError Error(std::string_view field, std::string code, std::string message) {
  return {std::string(field), std::move(code), std::move(message)};
}

// Code points of a UTF-8 string, or nullopt when it is not valid UTF-8 (overlong forms and surrogates
// included). Reports whether a control character (C0, DEL, C1) occurs.
std::optional<std::size_t> CountCodePoints(std::string_view s, bool& has_control) {
  std::size_t count = 0;
  has_control = false;
  for (std::size_t i = 0; i < s.size(); ++count) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + len > s.size()) return std::nullopt;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) has_control = true;
    i += len;
  }
  return count;
}

bool IsLdh(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'; }

// Dot-separated labels of 1..63 letters, digits and hyphens, not starting or ending with a hyphen, at least two.
bool IsEmailDomain(std::string_view domain) {
  std::size_t labels = 0;
  while (true) {
    const auto dot = domain.find('.');
    const std::string_view label = domain.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    if (!std::all_of(label.begin(), label.end(), IsLdh)) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return labels >= 2;
}

nlohmann::json OptionalInt(const std::optional<std::int64_t>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

bool ApiKey::UsableAt(std::int64_t now_ms) const {
  return !revoked_at.has_value() && (!expires_at.has_value() || now_ms < *expires_at);
}

nlohmann::json ToJson(const User& user) {
  return {{"id", user.id},
          {"email", user.email},
          {"name", user.name},
          {"role", user.role},
          {"active", user.active},
          {"totp_enabled", user.totp_enabled},
          {"site_ids", user.site_ids},
          {"created_at", user.created_at},
          {"updated_at", user.updated_at},
          {"last_login_at", OptionalInt(user.last_login_at)}};
}

nlohmann::json ToJson(const ApiKey& key) {
  return {{"id", key.id},
          {"name", key.name},
          {"prefix", key.prefix},
          {"site_ids", key.site_ids},
          {"created_at", key.created_at},
          {"last_used_at", OptionalInt(key.last_used_at)},
          {"revoked_at", OptionalInt(key.revoked_at)},
          {"expires_at", OptionalInt(key.expires_at)}};
}

std::string TrimEmail(std::string_view email) { return std::string(validate::ascii::Trim(email)); }

std::string EmailKey(std::string_view email) { return validate::ascii::ToLower(TrimEmail(email)); }

std::vector<FieldError> ValidateEmail(std::string_view email, std::string_view field) {
  const std::string_view e = validate::ascii::Trim(email);
  if (e.empty()) return {Error(field, "required", "an email address is required")};
  if (e.size() > kMaxEmailBytes) return {Error(field, "too_long", "at most 254 characters")};
  for (const char c : e) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return {Error(field, "invalid_format", "no spaces or control characters")};
  }
  const auto at = e.find('@');
  if (at == std::string_view::npos || e.find('@', at + 1) != std::string_view::npos) {
    return {Error(field, "invalid_format", "exactly one '@'")};
  }
  const std::string_view local = e.substr(0, at);
  if (local.empty() || local.size() > kMaxEmailLocalBytes) {
    return {Error(field, "invalid_format", "the part before '@' must be 1 to 64 characters")};
  }
  if (!IsEmailDomain(e.substr(at + 1))) {
    return {Error(field, "invalid_format", "the part after '@' must be a domain name such as example.com")};
  }
  return {};
}

std::vector<FieldError> ValidateName(std::string_view name, std::string_view field) {
  if (validate::ascii::Trim(name).empty()) return {Error(field, "required", "a name is required")};
  bool has_control = false;
  const auto chars = CountCodePoints(name, has_control);
  if (!chars) return {Error(field, "invalid_utf8", "not valid UTF-8")};
  if (*chars > kMaxNameChars) return {Error(field, "too_long", "at most 200 characters")};
  if (has_control) return {Error(field, "invalid_format", "no control characters (line breaks, tabs...)")};
  return {};
}

std::vector<FieldError> ValidateRole(std::string_view role, std::string_view field) {
  if (role == kRoleAdmin || role == kRoleEditor) return {};
  return {Error(field, "invalid_value", "must be 'admin' or 'editor'")};
}

std::vector<FieldError> ValidateSiteIds(const std::vector<std::int64_t>& site_ids, std::string_view field) {
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < site_ids.size(); ++i) {
    const std::string at = std::string(field) + "[" + std::to_string(i) + "]";
    if (site_ids[i] <= 0) return {Error(at, "invalid_value", "a site id is a positive integer")};
    if (!seen.insert(site_ids[i]).second) return {Error(at, "duplicate", "listed twice")};
  }
  return {};
}

std::vector<FieldError> Validate(const NewUser& user) {
  std::vector<FieldError> errors;
  for (auto&& list :
       {ValidateEmail(user.email), ValidateName(user.name), ValidateRole(user.role), ValidateSiteIds(user.site_ids)}) {
    errors.insert(errors.end(), list.begin(), list.end());
  }
  return errors;
}

std::vector<FieldError> Validate(const UserPatch& patch) {
  std::vector<FieldError> errors;
  const auto add = [&](std::vector<FieldError> list) { errors.insert(errors.end(), list.begin(), list.end()); };
  if (patch.email) add(ValidateEmail(*patch.email));
  if (patch.name) add(ValidateName(*patch.name));
  if (patch.role) add(ValidateRole(*patch.role));
  return errors;
}

}  // namespace poste::users
