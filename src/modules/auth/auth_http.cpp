#include "modules/auth/auth_http.hpp"

#include "lib/validate/ascii.hpp"

namespace poste::auth {

std::optional<std::string> CookieValue(const web::Request& request, std::string_view name) {
  for (const auto& [header, value] : request.headers.All()) {
    if (!web::IEquals(header, "Cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      auto semi = rest.find(';');
      std::string_view pair = validate::ascii::Trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      auto eq = pair.find('=');
      if (eq == std::string_view::npos) continue;
      if (validate::ascii::Trim(pair.substr(0, eq)) != name) continue;
      std::string_view v = validate::ascii::Trim(pair.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return std::string(v);
    }
  }
  return std::nullopt;
}

std::string SetCookieValue(const CookieSpec& spec) {
  std::string out = std::string(spec.name) + "=" + std::string(spec.value) + "; Path=" + std::string(spec.path);
  if (spec.max_age_s > 0) out += "; Max-Age=" + std::to_string(spec.max_age_s);
  if (spec.max_age_s < 0) out += "; Max-Age=0";
  if (spec.http_only) out += "; HttpOnly";
  if (spec.secure) out += "; Secure";
  out += "; SameSite=Lax";
  return out;
}

bool IsSafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE";
}

}  // namespace poste::auth
