#include "lib/validate/password_policy.hpp"

#include <algorithm>

#include "lib/validate/ascii.hpp"
#include "lib/validate/common_passwords.hpp"
#include "lib/validate/email.hpp"
#include "lib/validate/text.hpp"

namespace poste::validate {

namespace {

constexpr std::size_t kMinLocalPartToSearch = 4;

}  // namespace

bool IsCommonPassword(std::string_view password) {
  auto list = CommonPasswords();
  // No entry is longer than this: skip the copy for long passwords.
  if (password.size() > 64) return false;
  return std::binary_search(list.begin(), list.end(), ascii::ToLower(password));
}

std::optional<std::string> CheckPasswordStrength(std::string_view password, std::string_view email,
                                                 const PasswordPolicy& policy) {
  // The byte cap first, so that nothing below walks a huge input.
  if (password.size() > policy.max_bytes) {
    return "The password must be at most " + std::to_string(policy.max_bytes) + " bytes long.";
  }
  if (!IsValidUtf8(password)) return std::string("The password is not valid UTF-8 text.");
  if (HasControlChars(password, false)) return std::string("The password must not contain control characters.");
  if (Utf8Length(password) < policy.min_chars) {
    return "The password must be at least " + std::to_string(policy.min_chars) + " characters long.";
  }
  std::string lower = ascii::ToLower(password);
  std::string address = EmailKey(email);
  std::string local = ascii::ToLower(ascii::Trim(EmailLocalPart(ascii::Trim(email))));
  bool has_address = address.size() > local.size() && lower.find(address) != std::string::npos;
  bool has_local =
      !local.empty() &&
      (lower == local || (local.size() >= kMinLocalPartToSearch && lower.find(local) != std::string::npos));
  if (has_address || has_local) return std::string("The password must not contain your email address.");
  if (IsCommonPassword(password)) return std::string("The password is one of the most common passwords.");
  return std::nullopt;
}

}  // namespace poste::validate
