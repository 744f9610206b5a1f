#include "lib/validate/email.hpp"

#include "lib/validate/ascii.hpp"
#include "lib/validate/domain.hpp"

namespace poste::validate {

namespace {

bool IsAtext(char c) {
  if (ascii::IsAlnum(c)) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return kSpecials.find(c) != std::string_view::npos;
}

}  // namespace

bool IsDotAtom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  char previous = 0;
  for (char c : s) {
    if (c == '.') {
      if (previous == '.') return false;
    } else if (!IsAtext(c)) {
      return false;
    }
    previous = c;
  }
  return true;
}

bool IsValidEmail(std::string_view email) {
  if (email.size() > kMaxEmail) return false;
  auto at = email.rfind('@');
  if (at == std::string_view::npos) return false;
  std::string_view local = email.substr(0, at);
  std::string_view domain = email.substr(at + 1);
  if (local.size() > kMaxEmailLocal || !IsDotAtom(local)) return false;  // '@' is not atext: one '@' only
  return IsValidDomain(domain);
}

std::string NormalizeEmail(std::string_view email) {
  email = ascii::Trim(email);
  auto at = email.rfind('@');
  if (at == std::string_view::npos) return std::string(email);
  std::string out(email);
  for (std::size_t i = at + 1; i < out.size(); ++i) out[i] = ascii::ToLower(out[i]);
  return out;
}

std::string EmailKey(std::string_view email) { return ascii::ToLower(ascii::Trim(email)); }

std::string_view EmailLocalPart(std::string_view email) {
  auto at = email.rfind('@');
  return at == std::string_view::npos ? email : email.substr(0, at);
}

}  // namespace poste::validate
