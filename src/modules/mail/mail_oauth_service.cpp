#include "modules/mail/mail_oauth_service.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/error.hpp"
#include "lib/net/http_client.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/mail/mail_account_service.hpp"

namespace poste::mail {

namespace {

// RFC 6749 §A.11: a code is VSCHAR (printable ASCII), and ours are bounded.
bool IsCodeText(std::string_view code) {
  return !code.empty() && code.size() <= kMaxCallbackValue &&
         std::all_of(code.begin(), code.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// The provider's error code as the audit log keeps it: RFC 6749 codes are [a-z_] (OAuth2Error's add digits:
// "http_502"); anything else becomes "other" (it came from a query string, which anyone can write).
std::string ErrorCodeOf(std::string_view error) {
  const bool plain = !error.empty() && error.size() <= 64 && std::all_of(error.begin(), error.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  return plain ? std::string(error) : std::string("other");
}

CallbackResult Failed(CallbackFailure failure) {
  CallbackResult r;
  r.failure = failure;
  return r;
}

}  // namespace

MailOAuthService::MailOAuthService(db::Database& db, MailAccountsService& accounts, OAuthOptions options)
    : db_(db), accounts_(accounts), options_(std::move(options)) {}

std::int64_t MailOAuthService::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

OAuthStart MailOAuthService::Start(const audit::Origin& origin, std::int64_t site_id, std::int64_t account_id) {
  const Account account = accounts_.Get(site_id, account_id);
  if (!IsOAuthAccountType(account.type)) {
    throw AppError::Conflict("Only gmail and outlook accounts connect through OAuth2.",
                             {{"type", "not_oauth", "the account's type is " + account.type}});
  }
  if (options_.redirect_url.empty()) {
    throw AppError::Conflict(
        "OAuth2 is not configured on this server: set mail.oauth_redirect_url to the public URL of "
        "/api/v1/mail/oauth/callback, as registered with the provider.");
  }
  const std::string client_id = account.settings.value("client_id", "");
  if (client_id.empty()) {
    throw AppError::Validation(
        {{"settings.client_id", "required", "the OAuth2 client id registered with the provider"}});
  }
  const OAuth2App app{client_id, "", options_.redirect_url};
  auto start = StartAuthorization(ProviderFor(account), app, account.settings.value("username", ""),
                                  MakeState(site_id, account_id, ""));
  const auto parts = ParseState(start.state);
  if (!parts) throw AppError::Internal("an OAuth2 state of an unexpected shape");
  PendingAuthorization pending;
  pending.state_hash = StateHash(parts->secret);
  pending.code_verifier = start.code_verifier;
  pending.redirect_uri = options_.redirect_url;
  pending.user_id = origin.user_id.value_or(0);
  pending.expires_at = Now() + options_.state_lifetime_ms;
  const bool found = accounts_.ChangeSecrets(site_id, account_id, [&](soci::session& s, Account& a) {
    if (!IsOAuthAccountType(a.type))
      throw AppError::Conflict("Only gmail and outlook accounts connect through OAuth2.");
    a.secrets[std::string(kPendingSecret)] = ToSecret(pending);
    audit::Record(s, audit::EntryFrom(origin, "mail_account.oauth_start", "mail_account", std::to_string(account_id),
                                      site_id, {{"expires_at", pending.expires_at}}));
    return true;
  });
  if (!found) throw AppError::NotFound("No such mail account.");
  return {start.url, pending.expires_at};
}

void MailOAuthService::Audit(const audit::Origin& origin, const CallbackResult& result, std::int64_t user_id,
                             const std::string& provider_error) {
  audit::Origin actor = origin;
  actor.user_id = user_id > 0 ? std::optional<std::int64_t>(user_id) : std::nullopt;
  actor.api_key_id.reset();
  nlohmann::json details = {{"ok", result.ok()}, {"reason", std::string(FailureCode(result.failure))}};
  if (!provider_error.empty()) details["provider_error"] = ErrorCodeOf(provider_error);
  db_.Write([&](soci::session& s) {
    audit::Record(s, audit::EntryFrom(actor, "mail_account.oauth_connect", "mail_account",
                                      std::to_string(result.account_id), result.site_id, std::move(details)));
  });
}

CallbackResult MailOAuthService::Complete(const audit::Origin& origin, const CallbackQuery& query) {
  if (!query.state) return Failed(CallbackFailure::kInvalidState);
  const auto parts = ParseState(*query.state);
  if (!parts) return Failed(CallbackFailure::kInvalidState);
  if (query.code && !IsCodeText(*query.code)) return Failed(CallbackFailure::kInvalidRequest);

  // Take the pending authorization the state names: once only, whatever happens next.
  std::optional<PendingAuthorization> pending;
  CallbackResult result;
  const std::string hash = StateHash(parts->secret);
  accounts_.ChangeSecrets(parts->site_id, parts->account_id, [&](soci::session&, Account& a) {
    auto it = a.secrets.find(std::string(kPendingSecret));
    if (it == a.secrets.end()) return false;
    auto p = PendingFromSecret(it->second);
    if (p && !crypto::ConstantTimeEquals(p->state_hash, hash)) return false;  // another flow's: left as it is
    a.secrets.erase(it);
    pending = std::move(p);
    result.account_name = a.name;
    return true;
  });
  if (!pending) return Failed(CallbackFailure::kInvalidState);
  result.site_id = parts->site_id;
  result.account_id = parts->account_id;
  auto fail = [&](CallbackFailure failure, const std::string& provider_error = {}) {
    result.failure = failure;
    Audit(origin, result, pending->user_id, provider_error);
    return result;
  };
  if (pending->expires_at <= Now()) return fail(CallbackFailure::kExpiredState);
  if (query.error) {
    return fail(*query.error == "access_denied" ? CallbackFailure::kAccessDenied : CallbackFailure::kProviderError,
                *query.error);
  }
  if (!query.code) return fail(CallbackFailure::kMissingCode);
  if (options_.may_manage && !options_.may_manage(pending->user_id, result.site_id)) {
    return fail(CallbackFailure::kNotAllowed);
  }

  Account account;
  try {
    account = accounts_.Get(result.site_id, result.account_id);
  } catch (const AppError& e) {
    if (e.code() != ErrorCode::kNotFound) throw;
    return Failed(CallbackFailure::kInvalidState);  // deleted meanwhile (its audit entries went with it)
  }
  if (!IsOAuthAccountType(account.type)) return fail(CallbackFailure::kAccountChanged);
  auto secret = [&](const char* name) {
    auto it = account.secrets.find(name);
    return it == account.secrets.end() ? std::string() : it->second;
  };
  const OAuth2App app{account.settings.value("client_id", ""), secret("client_secret"), pending->redirect_uri};
  const OAuth2TokenClient client(ProviderFor(account), app,
                                 net::HttpClient(net::HttpClientOptions{options_.user_agent, options_.token_policy}),
                                 options_.token_timeout);
  TokenSet tokens;
  try {
    tokens = client.ExchangeCode(*query.code, pending->code_verifier);
  } catch (const OAuth2Error& e) {
    return fail(FailureOfOAuth2Error(e), e.code());
  } catch (const AppError&) {
    return fail(CallbackFailure::kClientRefused);  // an unusable token endpoint URL
  }
  if (tokens.refresh_token.empty()) return fail(CallbackFailure::kNoRefreshToken);

  bool changed = false;
  const bool found = accounts_.ChangeSecrets(result.site_id, result.account_id, [&](soci::session& s, Account& a) {
    if (!IsOAuthAccountType(a.type)) {
      changed = true;
      return false;
    }
    a.secrets["refresh_token"] = tokens.refresh_token;
    audit::Origin actor = origin;
    actor.user_id = pending->user_id > 0 ? std::optional<std::int64_t>(pending->user_id) : std::nullopt;
    actor.api_key_id.reset();
    audit::Record(
        s, audit::EntryFrom(actor, "mail_account.oauth_connect", "mail_account", std::to_string(result.account_id),
                            result.site_id, {{"ok", true}, {"reason", "connected"}, {"scope", tokens.scope}}));
    return true;
  });
  if (!found) return Failed(CallbackFailure::kInvalidState);
  if (changed) return fail(CallbackFailure::kAccountChanged);
  return result;
}

}  // namespace poste::mail
