#include "lib/mail/oauth2.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/crypto/random.hpp"
#include "lib/error.hpp"
#include "lib/mail/provider_http.hpp"
#include "lib/net/http_url.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail {

namespace {

namespace ascii = validate::ascii;
using nlohmann::json;

constexpr auto kDefaultLifetime = std::chrono::seconds(600);  // when a provider leaves expires_in out
constexpr auto kMaxLifetime = std::chrono::seconds(366 * 24 * 3600);
constexpr std::size_t kMaxToken = 16 * 1024;

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) out += (out.empty() ? "" : " ") + s;
  return out;
}

// Tokens go into SASL strings and HTTP headers: printable ASCII only.
bool IsTokenText(std::string_view s) {
  return !s.empty() && s.size() <= kMaxToken &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

OAuth2ErrorKind KindOfCode(std::string_view code, int status) {
  if (code == "invalid_grant" || code == "interaction_required" || code == "consent_required" ||
      code == "login_required" || code == "access_denied") {
    return OAuth2ErrorKind::kReconnect;
  }
  if (code == "temporarily_unavailable" || code == "server_error" || code == "slow_down") {
    return OAuth2ErrorKind::kTemporary;
  }
  if (status == 408 || status == 429 || status >= 500) return OAuth2ErrorKind::kTemporary;
  return OAuth2ErrorKind::kClient;
}

std::string StringOf(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// expires_in as a number or, as some providers send it, a string of digits.
std::optional<std::int64_t> SecondsOf(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return std::nullopt;
  constexpr auto kMax = static_cast<std::int64_t>(kMaxLifetime.count());
  if (it->is_number_unsigned())
    return static_cast<std::int64_t>(std::min<std::uint64_t>(it->get<std::uint64_t>(), kMax));
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number_float()) {
    const double d = it->get<double>();
    if (!(d > 0)) return 0;  // negative, or NaN
    return d >= static_cast<double>(kMax) ? kMax : static_cast<std::int64_t>(d);
  }
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    if (s.empty() || s.size() > 12 || !std::all_of(s.begin(), s.end(), ascii::IsDigit)) return std::nullopt;
    return std::stoll(s);
  }
  return std::nullopt;
}

TokenSet ParseTokenResponse(const net::HttpResponse& response) {
  const json body = response.truncated ? json(json::value_t::discarded) : json::parse(response.body, nullptr, false);
  if (response.status < 200 || response.status >= 300) {
    const std::string code = body.is_object() ? StringOf(body, "error") : std::string();
    const std::string description = body.is_object() ? StringOf(body, "error_description") : std::string();
    std::string message = "the token endpoint answered " +
                          HttpAnswer(response.status, code.empty() ? response.body : code + ": " + description);
    throw OAuth2Error(KindOfCode(code, response.status),
                      code.empty() ? "http_" + std::to_string(response.status) : CleanAnswer(code, 64),
                      CleanAnswer(message));
  }
  if (!body.is_object()) {
    throw OAuth2Error(OAuth2ErrorKind::kProtocol, "malformed_response",
                      // Not the body: a token answer, even a broken one, must not end up in a log.
                      "the token endpoint's answer (HTTP " + std::to_string(response.status) + ", " +
                          std::to_string(response.body.size()) + (response.truncated ? "+" : "") +
                          " bytes) is not a JSON object");
  }
  TokenSet tokens;
  tokens.access_token = StringOf(body, "access_token");
  if (!IsTokenText(tokens.access_token)) {
    throw OAuth2Error(OAuth2ErrorKind::kProtocol, "malformed_response",
                      "the token endpoint's answer has no usable access_token");
  }
  const std::string type = StringOf(body, "token_type");
  if (!type.empty() && ascii::ToLower(type) != "bearer") {
    throw OAuth2Error(OAuth2ErrorKind::kProtocol, "malformed_response",
                      "the token endpoint issued a token of type " + CleanAnswer(type, 40) + ", not Bearer");
  }
  tokens.refresh_token = StringOf(body, "refresh_token");
  if (!tokens.refresh_token.empty() && !IsTokenText(tokens.refresh_token)) {
    throw OAuth2Error(OAuth2ErrorKind::kProtocol, "malformed_response",
                      "the token endpoint's refresh_token is not usable");
  }
  tokens.scope = CleanAnswer(StringOf(body, "scope"));
  auto seconds = SecondsOf(body, "expires_in");
  tokens.expires_in =
      seconds ? std::clamp(std::chrono::seconds(*seconds), std::chrono::seconds(0), kMaxLifetime) : kDefaultLifetime;
  tokens.expires_at = std::chrono::system_clock::now() + tokens.expires_in;
  return tokens;
}

}  // namespace

OAuth2Provider GmailOAuth2() {
  return {"https://accounts.google.com/o/oauth2/v2/auth",
          "https://oauth2.googleapis.com/token",
          {"https://mail.google.com/"},
          {{"access_type", "offline"}, {"prompt", "consent"}},
          false};
}

OAuth2Provider OutlookOAuth2(std::string_view tenant) {
  std::string base = "https://login.microsoftonline.com/" + std::string(tenant.empty() ? "common" : tenant);
  return {base + "/oauth2/v2.0/authorize",
          base + "/oauth2/v2.0/token",
          {"https://outlook.office.com/SMTP.Send", "offline_access"},
          {{"response_mode", "query"}},
          true};
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto encode = [](std::string& out, std::string_view s) {
    for (char c : s) {
      if (ascii::IsAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
        out.push_back(c);
      } else {
        const auto u = static_cast<unsigned char>(c);
        out += {'%', kHex[u >> 4], kHex[u & 15]};
      }
    }
  };
  std::string out;
  for (const auto& [name, value] : fields) {
    if (!out.empty()) out.push_back('&');
    encode(out, name);
    out.push_back('=');
    encode(out, value);
  }
  return out;
}

std::string PkceChallenge(std::string_view code_verifier) {
  return crypto::Base64UrlEncode(crypto::Sha256(code_verifier));
}

bool StateMatches(std::string_view expected, std::string_view received) {
  return !expected.empty() && crypto::ConstantTimeEquals(expected, received);
}

AuthorizationStart StartAuthorization(const OAuth2Provider& provider, const OAuth2App& app, std::string_view login_hint,
                                      std::string_view state_prefix) {
  if (!net::ParseHttpUrl(provider.authorization_endpoint)) {
    throw AppError::BadRequest("The OAuth2 authorization endpoint is not an http(s) URL.");
  }
  AuthorizationStart start;
  start.state = std::string(state_prefix) + crypto::RandomToken(32);
  start.code_verifier = crypto::RandomToken(32);
  std::vector<std::pair<std::string, std::string>> params = {
      {"response_type", "code"},
      {"client_id", app.client_id},
      {"redirect_uri", app.redirect_uri},
      {"scope", JoinScopes(provider.scopes)},
      {"state", start.state},
      {"code_challenge", PkceChallenge(start.code_verifier)},
      {"code_challenge_method", "S256"},
  };
  for (const auto& extra : provider.extra_authorization_params) params.push_back(extra);
  if (!login_hint.empty()) params.emplace_back("login_hint", std::string(login_hint));
  const char separator = provider.authorization_endpoint.find('?') == std::string::npos ? '?' : '&';
  start.url = provider.authorization_endpoint + separator + FormEncode(params);
  return start;
}

DeliveryResult ResultOfOAuth2Error(const OAuth2Error& error) {
  DeliveryResult result;
  switch (error.kind()) {
    case OAuth2ErrorKind::kReconnect:
      result.outcome = DeliveryOutcome::kPermanent;
      result.answer = CleanAnswer(std::string("The account's authorization was refused (") + error.what() +
                                  "); connect the account again.");
      return result;
    case OAuth2ErrorKind::kClient:
      result.outcome = DeliveryOutcome::kPermanent;
      result.answer = CleanAnswer(std::string("OAuth2 client settings refused: ") + error.what());
      return result;
    case OAuth2ErrorKind::kTemporary:
    case OAuth2ErrorKind::kProtocol:
      break;
  }
  result.outcome = DeliveryOutcome::kTemporary;
  result.answer = CleanAnswer(std::string("OAuth2 token refresh failed: ") + error.what());
  return result;
}

OAuth2TokenClient::OAuth2TokenClient(OAuth2Provider provider, OAuth2App app, net::HttpClient http,
                                     std::chrono::milliseconds timeout)
    : provider_(std::move(provider)), app_(std::move(app)), http_(std::move(http)), timeout_(timeout) {}

TokenSet OAuth2TokenClient::ExchangeCode(std::string_view code, std::string_view code_verifier) const {
  if (code.empty() || code.size() > kMaxToken) {
    throw OAuth2Error(OAuth2ErrorKind::kReconnect, "invalid_request", "the authorization code is missing or too long");
  }
  return Post({{"grant_type", "authorization_code"},
               {"code", std::string(code)},
               {"redirect_uri", app_.redirect_uri},
               {"code_verifier", std::string(code_verifier)}});
}

TokenSet OAuth2TokenClient::Refresh(std::string_view refresh_token) const {
  if (refresh_token.empty()) {
    throw OAuth2Error(OAuth2ErrorKind::kReconnect, "invalid_grant", "the account has no refresh token");
  }
  std::vector<std::pair<std::string, std::string>> fields = {{"grant_type", "refresh_token"},
                                                             {"refresh_token", std::string(refresh_token)}};
  if (provider_.scope_on_refresh) fields.emplace_back("scope", JoinScopes(provider_.scopes));
  return Post(std::move(fields));
}

TokenSet OAuth2TokenClient::Post(std::vector<std::pair<std::string, std::string>> fields) const {
  fields.emplace_back("client_id", app_.client_id);
  if (!app_.client_secret.empty()) fields.emplace_back("client_secret", app_.client_secret);
  net::HttpRequest request;
  request.method = "POST";
  request.url = provider_.token_endpoint;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  request.body = FormEncode(fields);
  request.connect_timeout = std::min(timeout_, std::chrono::milliseconds(5000));
  request.total_timeout = timeout_;
  request.max_response_bytes = 64 * 1024;
  net::HttpResponse response;
  try {
    response = http_.Send(request);
  } catch (const net::HttpError& e) {
    const bool temporary = OutcomeOfHttpError(e.kind()) == DeliveryOutcome::kTemporary;
    throw OAuth2Error(temporary ? OAuth2ErrorKind::kTemporary : OAuth2ErrorKind::kClient,
                      e.kind() == net::HttpErrorKind::kTimeout ? "timeout" : "transport",
                      std::string("the token endpoint could not be reached: ") + e.what());
  }
  TokenSet tokens = ParseTokenResponse(response);
  return tokens;
}

std::string XOAuth2InitialResponse(std::string_view user, std::string_view access_token) {
  auto clean = [](std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
  };
  if (user.empty() || access_token.empty() || !clean(user) || !clean(access_token)) {
    throw AppError::BadRequest("The XOAUTH2 user or token is empty or holds a control character.");
  }
  return crypto::Base64Encode("user=" + std::string(user) + "\x01" + "auth=Bearer " + std::string(access_token) +
                              "\x01\x01");
}

std::optional<std::string> AccessTokenCache::Find(const std::string& key,
                                                  std::chrono::system_clock::time_point now) const {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(key);
  if (it == tokens_.end() || it->second.second - margin_ <= now) return std::nullopt;
  return it->second.first;
}

void AccessTokenCache::Put(const std::string& key, const TokenSet& tokens) {
  std::lock_guard lock(mu_);
  tokens_[key] = {tokens.access_token, tokens.expires_at};
}

void AccessTokenCache::Forget(const std::string& key) {
  std::lock_guard lock(mu_);
  tokens_.erase(key);
}

std::string AccessTokenCache::Get(const std::string& key, const std::function<TokenSet()>& refresh,
                                  std::chrono::system_clock::time_point now) {
  if (auto cached = Find(key, now)) return *cached;
  std::shared_ptr<std::mutex> key_lock;
  {
    std::lock_guard lock(mu_);
    auto& slot = refreshing_[key];
    if (!slot) slot = std::make_shared<std::mutex>();
    key_lock = slot;
  }
  std::lock_guard refreshing(*key_lock);
  if (auto cached = Find(key, now)) return *cached;  // refreshed while this caller waited
  TokenSet tokens = refresh();
  Put(key, tokens);
  return tokens.access_token;
}

}  // namespace poste::mail
