#pragma once
// The public unsubscribe endpoints, outside /api and without authentication, CSRF token or cookies (RFC 8058
// forbids the mail client to send any): GET /u/{token} shows the plain page, POST /u/{token} unsubscribes
// (the one-click POST of mail clients, body List-Unsubscribe=One-Click, and the page's own form) and
// answers 200 with the confirmation page, never a redirect.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class UnsubscribeService;

inline constexpr std::size_t kUnsubscribeBodyLimit = 4096;

// limits: the per-IP rate limit of both routes (put first).
void RegisterUnsubscribeRoutes(web::Router& router, UnsubscribeService& service, std::vector<web::Middleware> limits);

}  // namespace poste::mail
