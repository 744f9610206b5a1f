#pragma once
// The password rules for accounts (NIST SP 800-63B style: a length floor, a breached-list check, no
// composition rules, no forced rotation).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace poste::validate {

struct PasswordPolicy {
  std::size_t min_chars = 10;    // in Unicode code points, so "é" counts once
  std::size_t max_bytes = 1024;  // a bound on hashing work per login, far above any real password
};

// Why `password` is too weak for the account `email`, as a sentence to show to the user; nullopt when it is
// acceptable. Refused: invalid UTF-8 or control characters; fewer than min_chars characters; more than
// max_bytes bytes; containing the email address or its local part (case-insensitively; a local part shorter
// than 4 characters is only refused when it is the whole password, since "jo" would forbid too much); or one
// of the bundled common passwords (case-insensitively). Unicode normalisation is the caller's choice and is
// not applied here.
std::optional<std::string> CheckPasswordStrength(std::string_view password, std::string_view email,
                                                 const PasswordPolicy& policy = {});

// True if `password`, lower-cased (ASCII), is in the bundled list of common passwords.
bool IsCommonPassword(std::string_view password);

}  // namespace poste::validate
