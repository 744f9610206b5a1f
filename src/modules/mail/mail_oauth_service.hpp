#pragma once
// Connecting a Gmail / Outlook mail account through OAuth2 (authorization code with PKCE), so that no admin
// has to paste a refresh token:
//   Start    (an admin of the site): the provider's authorization URL with a fresh state and S256 challenge;
//            the pending authorization (hash of the state, PKCE verifier, redirect URI, who, until when) is
//            kept sealed with the account. A new start replaces the previous one.
//   Complete (the provider's redirect, reached by the browser without API credentials: the state is the
//            credential): consumes the pending authorization (single use, even when the rest fails), checks
//            its expiry and that its starter may still manage the site's accounts, exchanges the code at the
//            token endpoint (form POST with code_verifier, the same redirect_uri and the client's
//            credentials) and stores the refresh token sealed. Both ends are audited, without any token.
//
// Every member blocks (SQL, the token endpoint): call it through co_await blocking(...).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "lib/net/target_policy.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/mail/mail_oauth_types.hpp"

namespace poste::db {
class Database;
}

namespace poste::mail {

class MailAccountsService;

struct OAuthOptions {
  // mail.oauth_redirect_url: the public URL of GET /api/v1/mail/oauth/callback, as registered with the
  // providers. Empty: Start answers 409 (not configured).
  std::string redirect_url;
  // Which hosts token endpoints may reach (public addresses, plus mail.oauth_allow_targets).
  net::TargetPolicy token_policy;
  std::string user_agent = "Poste-Mail";
  std::chrono::milliseconds token_timeout{15000};
  std::int64_t state_lifetime_ms = kOAuthStateLifetimeMs;
  // Whether the user may still manage the site's mail accounts (an active admin). Default: yes.
  std::function<bool(std::int64_t user_id, std::int64_t site_id)> may_manage;
  std::function<std::int64_t()> now_ms;  // epoch ms; default: the system clock
};

struct OAuthStart {
  std::string authorization_url;
  std::int64_t expires_at = 0;  // epoch ms
};

// The callback's query parameters, as received (any bytes).
struct CallbackQuery {
  std::optional<std::string> code;
  std::optional<std::string> state;
  std::optional<std::string> error;
};

struct CallbackResult {
  CallbackFailure failure = CallbackFailure::kNone;
  std::int64_t site_id = 0;  // 0 when the state named no pending authorization
  std::int64_t account_id = 0;
  std::string account_name;
  bool ok() const { return failure == CallbackFailure::kNone; }
};

class MailOAuthService {
 public:
  MailOAuthService(db::Database& db, MailAccountsService& accounts, OAuthOptions options);

  // 404 when the site has no such account; 409 when it is not a gmail / outlook account or the redirect URL
  // is not configured; 422 (settings.client_id) without a client id.
  OAuthStart Start(const audit::Origin& origin, std::int64_t site_id, std::int64_t account_id);

  // Never throws for what the request holds: the outcome says what happened. `origin` gives the caller's
  // address and request id for the audit entry (its actor is the user who started the flow).
  CallbackResult Complete(const audit::Origin& origin, const CallbackQuery& query);

 private:
  std::int64_t Now() const;
  void Audit(const audit::Origin& origin, const CallbackResult& result, std::int64_t user_id,
             const std::string& provider_error);

  db::Database& db_;
  MailAccountsService& accounts_;
  OAuthOptions options_;
};

}  // namespace poste::mail
