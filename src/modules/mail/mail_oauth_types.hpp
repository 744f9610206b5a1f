#pragma once
// The OAuth2 connection of Gmail / Outlook mail accounts (authorization-code flow with PKCE): the pending
// authorization kept with the account, the `state` that names it, the provider of an account, and the
// reasons a callback can fail (what the callback page and the audit log say; never a token).
//
// The pending authorization lives in the account's sealed secrets under kPendingSecret (one per account: a
// new start replaces it), so it is encrypted at rest with the account's other secrets, goes with the account,
// and needs no table of its own. It keeps the SHA-256 of the state's random part, never the state.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "lib/mail/oauth2.hpp"
#include "modules/mail/mail_account_types.hpp"

namespace poste::mail {

inline constexpr std::string_view kPendingSecret = "oauth_pending";
inline constexpr std::int64_t kOAuthStateLifetimeMs = 10 * 60 * 1000;
inline constexpr std::size_t kMaxOAuthState = 128;       // a state of ours is under 80 characters
inline constexpr std::size_t kMaxCallbackQuery = 16384;  // bytes of the callback's query string
inline constexpr std::size_t kMaxCallbackValue = 8192;   // bytes of one decoded parameter (a code, a description)

bool IsOAuthAccountType(std::string_view type);

// What the start of a connection leaves with the account until its callback.
struct PendingAuthorization {
  std::string state_hash;     // hex SHA-256 of the state's random part
  std::string code_verifier;  // PKCE (sealed with the account's secrets)
  std::string redirect_uri;   // as sent in the authorization request: the token request repeats it exactly
  std::int64_t user_id = 0;   // who started it
  std::int64_t expires_at = 0;
};
std::string ToSecret(const PendingAuthorization& pending);
// nullopt when the text is not a pending authorization (an old or damaged value).
std::optional<PendingAuthorization> PendingFromSecret(std::string_view text);

// The state sent to the provider: "<site id>.<account id>.<random>", the random part the one
// StartAuthorization drew (base64url, 43 characters). The ids only say which account to look at; the random
// part is the credential.
struct StateParts {
  std::int64_t site_id = 0;
  std::int64_t account_id = 0;
  std::string secret;
};
std::string MakeState(std::int64_t site_id, std::int64_t account_id, std::string_view secret);
// nullopt unless `state` has exactly that shape (hostile input: any length, any bytes).
std::optional<StateParts> ParseState(std::string_view state);
std::string StateHash(std::string_view secret);

// The provider's published endpoints and scopes for the account's type, with the account's
// authorization_url and token_url settings in place of the defaults when set.
OAuth2Provider ProviderFor(const Account& account);

// Why a callback did not connect the account. The code goes into the page and the audit log.
enum class CallbackFailure {
  kNone,
  kInvalidRequest,    // 400: the query is malformed (bad escapes, not UTF-8, repeated or oversized values)
  kInvalidState,      // 400: unknown, already used, replaced by a newer start, or for an account since deleted
  kExpiredState,      // 400: started more than 10 minutes ago
  kAccessDenied,      // 400: the user declined at the provider (error=access_denied)
  kProviderError,     // 400: the provider redirected with another error
  kMissingCode,       // 400: neither a code nor an error
  kNotAllowed,        // 403: who started it may no longer manage the site's mail accounts
  kAccountChanged,    // 409: the account is no longer a gmail / outlook account
  kTokenUnavailable,  // 502: the token endpoint could not be reached, timed out or answered 5xx / 429
  kCodeRefused,       // 502: the token endpoint refused the code (invalid_grant...)
  kClientRefused,     // 502: the token endpoint refused the client (client id / secret, redirect URI)
  kBadTokenResponse,  // 502: the answer was not a usable token response
  kNoRefreshToken,    // 502: tokens came without a refresh token (offline access not granted)
};
// "invalid_state", "token_endpoint_unavailable"...
std::string_view FailureCode(CallbackFailure failure);
int FailureStatus(CallbackFailure failure);
CallbackFailure FailureOfOAuth2Error(const OAuth2Error& error);

}  // namespace poste::mail
