#include "lib/validate/domain.hpp"

#include "lib/validate/ascii.hpp"

namespace poste::validate {

namespace {

constexpr std::size_t kMaxDomain = 253;
constexpr std::size_t kMaxLabel = 63;

bool IsValidLabel(std::string_view label) {
  if (label.empty() || label.size() > kMaxLabel) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  for (char c : label) {
    if (!ascii::IsAlnum(c) && c != '-') return false;
  }
  return true;
}

bool AllDigits(std::string_view label) {
  for (char c : label) {
    if (!ascii::IsDigit(c)) return false;
  }
  return true;
}

}  // namespace

bool IsValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > kMaxDomain) return false;
  std::size_t labels = 0;
  std::string_view last;
  while (true) {
    auto dot = domain.find('.');
    std::string_view label = domain.substr(0, dot);
    if (!IsValidLabel(label)) return false;
    ++labels;
    last = label;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return labels >= 2 && !AllDigits(last);
}

std::string NormalizeDomain(std::string_view domain) {
  domain = ascii::Trim(domain);
  if (domain.ends_with('.')) domain.remove_suffix(1);
  return ascii::ToLower(domain);
}

}  // namespace poste::validate
