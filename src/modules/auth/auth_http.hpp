#pragma once
// Small HTTP helpers of the auth module: cookies and safe methods.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"
#include "lib/web/problem.hpp"
#include "lib/web/route.hpp"

namespace poste::auth {

inline constexpr std::string_view kAccessCookie = "poste_access";
inline constexpr std::string_view kRefreshCookie = "poste_refresh";
inline constexpr std::string_view kCsrfCookie = "poste_csrf";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";
inline constexpr std::string_view kRefreshCookiePath = "/api/v1/auth";

// The value of cookie `name` in the request's Cookie header(s), or nullopt.
std::optional<std::string> CookieValue(const web::Request& request, std::string_view name);

struct CookieSpec {
  std::string_view name;
  std::string_view value;
  std::string_view path = "/";
  std::int64_t max_age_s = 0;  // 0: a session cookie; < 0: delete the cookie (Max-Age=0)
  bool http_only = true;
  bool secure = false;
};
// A Set-Cookie header value, always SameSite=Lax.
std::string SetCookieValue(const CookieSpec& spec);

using web::ProblemFor;

// True for GET, HEAD, OPTIONS (and TRACE): methods that must not change anything.
bool IsSafeMethod(std::string_view method);

}  // namespace poste::auth
