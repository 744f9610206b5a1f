#pragma once
// OAuth 2.0 for the Gmail and Outlook accounts: the authorization-code flow with PKCE (RFC 6749 §4.1,
// RFC 7636 S256), the code exchange and the refresh-token grant against the provider's token endpoint,
// and a cache that keeps an access token until shortly before it expires.
//
// SMTP and IMAP then authenticate with SASL XOAUTH2. libcurl does it itself: set CURLOPT_USERNAME to the
// mailbox's address and CURLOPT_XOAUTH2_BEARER to the access token (with CURLOPT_LOGIN_OPTIONS
// "AUTH=XOAUTH2" when the server offers other mechanisms too). XOAuth2InitialResponse is for clients that
// speak SASL themselves, and for tests.
//
// The flow, as the accounts module runs it: StartAuthorization gives the URL to send the browser to, and
// a state and a code verifier to keep server-side (never in the browser); the provider redirects back with
// ?code=...&state=...; the caller compares the state (StateMatches), then ExchangeCode gives the tokens;
// the refresh token is stored encrypted, and Refresh (through an AccessTokenCache) gives access tokens.
// An OAuth2Error of kind kReconnect means the grant is gone (revoked, expired, password changed): the
// account must be connected again by its owner, retrying cannot help.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/mail/delivery.hpp"
#include "lib/net/http_client.hpp"

namespace poste::mail {

// A provider's endpoints and what to ask for. Configurable (a tenant of Microsoft Entra ID, a test
// stand-in); the defaults below are the providers' published ones.
struct OAuth2Provider {
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::vector<std::string> scopes;
  std::vector<std::pair<std::string, std::string>> extra_authorization_params;  // added to the authorization URL
  bool scope_on_refresh = false;  // send the scopes again with grant_type=refresh_token (Microsoft)
};

// Google: accounts.google.com/o/oauth2/v2/auth and oauth2.googleapis.com/token, scope
// https://mail.google.com/ (what SMTP and IMAP with XOAUTH2 need), access_type=offline and prompt=consent
// so that a refresh token is issued even when the user consented before.
OAuth2Provider GmailOAuth2();
// Microsoft identity platform v2.0: login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize and /token,
// scopes https://outlook.office.com/SMTP.Send and offline_access (the refresh token). `tenant`: "common"
// (work and personal accounts), "organizations", "consumers" or a tenant id / domain.
OAuth2Provider OutlookOAuth2(std::string_view tenant = "common");

// The application registered with the provider.
struct OAuth2App {
  std::string client_id;
  std::string client_secret;  // sent in the token request's body (client_secret_post); may be empty
  std::string redirect_uri;   // exactly as registered
};

struct AuthorizationStart {
  std::string url;            // where to send the user's browser
  std::string state;          // 256 random bits, base64url: compare it with the callback's
  std::string code_verifier;  // 256 random bits, base64url (43 characters): keep it for ExchangeCode
};

// The authorization URL: response_type=code, client_id, redirect_uri, scope (space-separated), state,
// code_challenge (S256 of a fresh verifier), code_challenge_method=S256, the provider's extra parameters,
// and login_hint when given (the address to connect). The state is `state_prefix` followed by the random
// part (a caller that keeps several flows says which one in the prefix; the random part stays the
// credential). Throws AppError::BadRequest when the endpoint is not an absolute http(s) URL.
AuthorizationStart StartAuthorization(const OAuth2Provider& provider, const OAuth2App& app,
                                      std::string_view login_hint = {}, std::string_view state_prefix = {});

// RFC 7636 S256: base64url(SHA-256(verifier)) without padding.
std::string PkceChallenge(std::string_view code_verifier);

// Constant-time comparison of the state kept with the one the callback brought.
bool StateMatches(std::string_view expected, std::string_view received);

struct TokenSet {
  std::string access_token;
  std::string refresh_token;  // empty when the provider did not send one (keep the one you have)
  std::string scope;          // as granted, when the provider says
  std::chrono::seconds expires_in{0};
  std::chrono::system_clock::time_point expires_at;  // when it was received + expires_in
};

enum class OAuth2ErrorKind {
  kReconnect,  // invalid_grant, interaction_required, consent_required...: the user must connect again
  kClient,     // invalid_client, unauthorized_client, a refused endpoint...: the application's settings
  kTemporary,  // 429, 5xx, server_error, temporarily_unavailable, timeouts, refused connections
  kProtocol,   // an answer that is not a token response (malformed, truncated, no access_token)
};

class OAuth2Error : public std::runtime_error {
 public:
  OAuth2Error(OAuth2ErrorKind kind, std::string code, const std::string& message)
      : std::runtime_error(message), kind_(kind), code_(std::move(code)) {}
  OAuth2ErrorKind kind() const { return kind_; }
  // The provider's "error" code ("invalid_grant"), or "http_<status>", "timeout", "malformed_response"...
  const std::string& code() const { return code_; }

 private:
  OAuth2ErrorKind kind_;
  std::string code_;
};

// For transports that refresh before sending: kReconnect and kClient are permanent (the answer says to
// reconnect the account or fix its settings), kTemporary and kProtocol temporary.
DeliveryResult ResultOfOAuth2Error(const OAuth2Error& error);

// Calls a provider's token endpoint (application/x-www-form-urlencoded POST, JSON answer). Blocking.
class OAuth2TokenClient {
 public:
  // `http`'s target policy decides which hosts the token endpoint may name; `timeout` bounds each call.
  OAuth2TokenClient(OAuth2Provider provider, OAuth2App app, net::HttpClient http,
                    std::chrono::milliseconds timeout = std::chrono::milliseconds(15000));

  // grant_type=authorization_code with code, redirect_uri, client_id, client_secret and code_verifier.
  TokenSet ExchangeCode(std::string_view code, std::string_view code_verifier) const;
  // grant_type=refresh_token with refresh_token, client_id, client_secret (and the scopes when the provider
  // has scope_on_refresh). A new refresh token in the answer replaces the old one: store it.
  TokenSet Refresh(std::string_view refresh_token) const;

  const OAuth2Provider& provider() const { return provider_; }

 private:
  TokenSet Post(std::vector<std::pair<std::string, std::string>> fields) const;

  OAuth2Provider provider_;
  OAuth2App app_;
  net::HttpClient http_;
  std::chrono::milliseconds timeout_;
};

// application/x-www-form-urlencoded: unreserved characters as they are, every other byte %XX (space too).
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// The SASL XOAUTH2 initial client response, base64: "user=" user "\x01auth=Bearer " token "\x01\x01".
// Throws AppError::BadRequest when the user or token holds a control character (they would end the fields).
std::string XOAuth2InitialResponse(std::string_view user, std::string_view access_token);

// Access tokens by key (an account id), each kept until `margin` before it expires. Thread-safe.
class AccessTokenCache {
 public:
  explicit AccessTokenCache(std::chrono::seconds margin = std::chrono::seconds(60)) : margin_(margin) {}

  // The cached token when it is valid for longer than the margin at `now`.
  std::optional<std::string> Find(const std::string& key, std::chrono::system_clock::time_point now) const;
  void Put(const std::string& key, const TokenSet& tokens);
  // After the server refused the token (revoked early): the next Get refreshes.
  void Forget(const std::string& key);
  // Find, else `refresh()` and Put. One refresh at a time per key: the parallel connections of a batch
  // that all find the token expired wait for one refresh instead of each spending the refresh token
  // (which a provider that rotates them may then refuse). `refresh` may throw (OAuth2Error): nothing is
  // cached then, and the next caller tries again. The caller's refresh stores a rotated refresh token.
  std::string Get(const std::string& key, const std::function<TokenSet()>& refresh,
                  std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

 private:
  std::chrono::seconds margin_;
  mutable std::mutex mu_;
  std::map<std::string, std::pair<std::string, std::chrono::system_clock::time_point>> tokens_;
  std::map<std::string, std::shared_ptr<std::mutex>> refreshing_;  // one per key, never removed (few keys)
};

}  // namespace poste::mail
