#pragma once
// /api/v1/auth/*: sign in, refresh, sign out, who am I, personal API keys, TOTP.
#include <cstdint>
#include <string>
#include <vector>

#include "lib/ratelimit/limiter.hpp"
#include "lib/web/router.hpp"
#include "modules/auth/auth_clock.hpp"
#include "modules/auth/auth_guard.hpp"
#include "modules/auth/credentials_service.hpp"
#include "modules/auth/login_service.hpp"
#include "modules/auth/token_service.hpp"

namespace poste::db {
class Database;
}

namespace poste::auth {

struct AuthRoutesOptions {
  bool secure_cookies = false;                  // add Secure to the cookies: set when the server is reached over TLS
  ratelimit::Rule login_rule{10, 10.0 / 60};    // per IP: bursts of 10, then one every 6 s
  ratelimit::Rule refresh_rule{30, 30.0 / 60};  // per IP
};

struct AuthDeps {
  db::Database& database;
  TokenService& tokens;
  LoginService& login;
  CredentialsService& credentials;
  AuthGuard& guard;
  ratelimit::Limiter& limiter;
  SiteResolver site_exists;  // blocking; checks the sites an admin scopes an API key to (may be empty)
  AuthRoutesOptions options;
  Clock steady = SteadyNowMs;  // for the limiter
  // The chain in front of the routes that need a caller (me, API keys, TOTP): the API's rate limits around
  // guard.Authenticate(). Empty: guard.Authenticate() alone.
  std::vector<web::Middleware> authenticate;
};

void RegisterRoutes(web::Router& router, AuthDeps deps);

}  // namespace poste::auth
