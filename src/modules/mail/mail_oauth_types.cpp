#include "modules/mail/mail_oauth_types.hpp"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"

namespace poste::mail {

namespace {

constexpr std::size_t kStateSecretLength = 43;  // base64url of 32 random bytes, unpadded

bool IsBase64Url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// A positive decimal id without sign, leading zero or overflow.
std::optional<std::int64_t> ParseId(std::string_view text) {
  if (text.empty() || text.size() > 18 || text.front() == '0') return std::nullopt;
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

}  // namespace

bool IsOAuthAccountType(std::string_view type) { return type == "gmail" || type == "outlook"; }

std::string ToSecret(const PendingAuthorization& p) {
  return nlohmann::json{{"state_hash", p.state_hash},
                        {"code_verifier", p.code_verifier},
                        {"redirect_uri", p.redirect_uri},
                        {"user_id", p.user_id},
                        {"expires_at", p.expires_at}}
      .dump();
}

std::optional<PendingAuthorization> PendingFromSecret(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  PendingAuthorization p;
  try {
    p.state_hash = j.at("state_hash").get<std::string>();
    p.code_verifier = j.at("code_verifier").get<std::string>();
    p.redirect_uri = j.at("redirect_uri").get<std::string>();
    p.user_id = j.at("user_id").get<std::int64_t>();
    p.expires_at = j.at("expires_at").get<std::int64_t>();
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
  if (p.state_hash.size() != 64 || p.code_verifier.empty()) return std::nullopt;
  return p;
}

std::string MakeState(std::int64_t site_id, std::int64_t account_id, std::string_view secret) {
  return std::to_string(site_id) + "." + std::to_string(account_id) + "." + std::string(secret);
}

std::optional<StateParts> ParseState(std::string_view state) {
  if (state.size() > kMaxOAuthState) return std::nullopt;
  const auto first = state.find('.');
  if (first == std::string_view::npos) return std::nullopt;
  const auto second = state.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  auto site = ParseId(state.substr(0, first));
  auto account = ParseId(state.substr(first + 1, second - first - 1));
  const std::string_view secret = state.substr(second + 1);
  if (!site || !account || secret.size() != kStateSecretLength ||
      !std::all_of(secret.begin(), secret.end(), IsBase64Url)) {
    return std::nullopt;
  }
  return StateParts{*site, *account, std::string(secret)};
}

std::string StateHash(std::string_view secret) { return crypto::HexEncode(crypto::Sha256(secret)); }

OAuth2Provider ProviderFor(const Account& account) {
  OAuth2Provider provider = account.type == "outlook" ? OutlookOAuth2() : GmailOAuth2();
  if (auto url = account.settings.value("authorization_url", ""); !url.empty()) provider.authorization_endpoint = url;
  if (auto url = account.settings.value("token_url", ""); !url.empty()) provider.token_endpoint = url;
  return provider;
}

std::string_view FailureCode(CallbackFailure failure) {
  switch (failure) {
    case CallbackFailure::kNone:
      return "connected";
    case CallbackFailure::kInvalidRequest:
      return "invalid_request";
    case CallbackFailure::kInvalidState:
      return "invalid_state";
    case CallbackFailure::kExpiredState:
      return "expired_state";
    case CallbackFailure::kAccessDenied:
      return "access_denied";
    case CallbackFailure::kProviderError:
      return "provider_error";
    case CallbackFailure::kMissingCode:
      return "missing_code";
    case CallbackFailure::kNotAllowed:
      return "not_allowed";
    case CallbackFailure::kAccountChanged:
      return "account_changed";
    case CallbackFailure::kTokenUnavailable:
      return "token_endpoint_unavailable";
    case CallbackFailure::kCodeRefused:
      return "code_refused";
    case CallbackFailure::kClientRefused:
      return "client_refused";
    case CallbackFailure::kBadTokenResponse:
      return "invalid_token_response";
    case CallbackFailure::kNoRefreshToken:
      return "no_refresh_token";
  }
  return "error";
}

int FailureStatus(CallbackFailure failure) {
  switch (failure) {
    case CallbackFailure::kNone:
      return 200;
    case CallbackFailure::kNotAllowed:
      return 403;
    case CallbackFailure::kAccountChanged:
      return 409;
    case CallbackFailure::kTokenUnavailable:
    case CallbackFailure::kCodeRefused:
    case CallbackFailure::kClientRefused:
    case CallbackFailure::kBadTokenResponse:
    case CallbackFailure::kNoRefreshToken:
      return 502;
    default:
      return 400;
  }
}

CallbackFailure FailureOfOAuth2Error(const OAuth2Error& error) {
  switch (error.kind()) {
    case OAuth2ErrorKind::kTemporary:
      return CallbackFailure::kTokenUnavailable;
    case OAuth2ErrorKind::kReconnect:
      return CallbackFailure::kCodeRefused;
    case OAuth2ErrorKind::kClient:
      // A refused connection or a target the policy forbids is the endpoint, not the client's credentials.
      return error.code() == "transport" ? CallbackFailure::kTokenUnavailable : CallbackFailure::kClientRefused;
    case OAuth2ErrorKind::kProtocol:
      return CallbackFailure::kBadTokenResponse;
  }
  return CallbackFailure::kBadTokenResponse;
}

}  // namespace poste::mail
