#pragma once
// The anonymous endpoints providers post events to: POST /api/v1/mail/events/sendgrid/{token} (SendGrid's
// signed Event Webhook) and POST /api/v1/mail/events/ses/{token} (Amazon SNS deliveries of SES
// notifications). No authentication, cookies or CSRF token: the token in the path and the providers'
// signatures decide. Bodies are bounded and each route is rate limited per IP.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class ProviderEventsService;

// limits: the per-IP rate limit of both routes (put first).
void RegisterProviderEventRoutes(web::Router& router, ProviderEventsService& service,
                                 std::vector<web::Middleware> limits);

}  // namespace poste::mail
