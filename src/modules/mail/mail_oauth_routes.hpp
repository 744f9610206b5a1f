#pragma once
// The OAuth2 connection of Gmail / Outlook accounts:
//   POST /api/v1/sites/{site}/mail/accounts/{id}/oauth/start  (site admins) -> {"authorization_url", "expires_at"}
//   GET  /api/v1/mail/oauth/callback?code&state | ?error&state  (the browser, after the provider's consent;
//        no API credentials: the state is the credential) -> an HTML page saying whether the account is
//        connected (200) or why not (400 / 403 / 409 / 502, with a code), never a redirect.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class MailOAuthService;

struct OAuthRouteGuards {
  std::vector<web::Middleware> manage;    // start: authenticates, resolves {site} (404), admins only (403)
  std::vector<web::Middleware> callback;  // callback: rate limits per client address
};

void RegisterOAuthRoutes(web::Router& router, MailOAuthService& service, OAuthRouteGuards guards);

}  // namespace poste::mail
