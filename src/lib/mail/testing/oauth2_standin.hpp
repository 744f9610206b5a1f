#pragma once
// For tests only (header-only, never linked into the server): an OAuth 2.0 authorization server on a
// loopback port, strict like RFC 6749 and RFC 7636 (and Google's and Microsoft's endpoints) are.
// Authorize(url) plays the user's consent: it checks the authorization URL (response_type=code, the
// client id, the registered redirect_uri, the scopes, a state, an S256 code_challenge) and answers the
// redirect back with a one-time code. POST /token takes application/x-www-form-urlencoded only (parsed
// by the strict form reader), the client's credentials in the body, and grant_type authorization_code
// (the code once, the same redirect_uri, a code_verifier whose S256 is the challenge) or refresh_token
// (a known, unrevoked token; rotated when asked). Errors are RFC 6749 §5.2 JSON; problems are recorded.
#include <cctype>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/error.hpp"
#include "lib/net/testing/http_receiver.hpp"
#include "lib/web/form_urlencoded.hpp"

namespace poste::mail::testing {

class OAuth2StandIn {
 public:
  OAuth2StandIn(std::string client_id, std::string client_secret, std::string redirect_uri,
                std::vector<std::string> scopes)
      : client_id_(std::move(client_id)),
        client_secret_(std::move(client_secret)),
        redirect_uri_(std::move(redirect_uri)),
        scopes_(std::move(scopes)) {
    receiver_.Handle([this](const net::testing::ReceivedRequest& r) { return Answer(r); });
  }

  std::string authorization_endpoint() const { return base() + "/authorize"; }
  std::string token_endpoint() const { return base() + "/token"; }
  net::testing::HttpReceiver& receiver() { return receiver_; }

  // Each refresh answers a new refresh token (Microsoft rotates them).
  void RotateRefreshTokens(bool rotate) {
    std::lock_guard lock(mu_);
    rotate_ = rotate;
  }
  void SetExpiresIn(nlohmann::json value) {
    std::lock_guard lock(mu_);
    expires_in_ = std::move(value);
  }
  // The user revoked the grant (or changed the password): the refresh token stops working.
  void Revoke(const std::string& refresh_token) {
    std::lock_guard lock(mu_);
    refresh_tokens_.erase(refresh_token);
  }
  void ForceNext(std::vector<net::testing::ScriptedResponse> answers) {
    std::lock_guard lock(mu_);
    for (auto& a : answers) forced_.push_back(std::move(a));
  }
  std::vector<std::string> Problems() {
    std::lock_guard lock(mu_);
    return problems_;
  }
  // The parameters of the last authorization URL and token request, for assertions.
  std::map<std::string, std::string, std::less<>> LastAuthorization() {
    std::lock_guard lock(mu_);
    return last_authorization_;
  }
  std::map<std::string, std::string, std::less<>> LastTokenRequest() {
    std::lock_guard lock(mu_);
    return last_token_request_;
  }

  // The user consents: the redirect URL (redirect_uri?code=...&state=...), or "" when the authorization
  // URL breaks a rule (recorded in Problems).
  std::string Authorize(const std::string& url) {
    const std::string prefix = authorization_endpoint() + "?";
    if (url.rfind(prefix, 0) != 0) return Refuse("authorization: not this server's endpoint: " + url);
    std::map<std::string, std::string, std::less<>> q;
    try {
      q = web::ParseFormFields(url.substr(prefix.size()));
    } catch (const AppError& e) {
      return Refuse("authorization: the query is not well-formed: " + e.message());
    }
    {
      std::lock_guard lock(mu_);
      last_authorization_ = q;
    }
    auto get = [&](const char* name) { return q.contains(name) ? q.at(name) : std::string(); };
    if (get("response_type") != "code") return Refuse("authorization: response_type must be code");
    if (get("client_id") != client_id_) return Refuse("authorization: unknown client_id");
    if (get("redirect_uri") != redirect_uri_) return Refuse("authorization: redirect_uri is not the registered one");
    if (get("state").size() < 16) return Refuse("authorization: no state (CSRF)");
    if (get("code_challenge_method") != "S256") return Refuse("authorization: code_challenge_method must be S256");
    const std::string challenge = get("code_challenge");
    if (challenge.size() != 43 || !crypto::Base64UrlDecode(challenge)) {
      return Refuse("authorization: code_challenge is not base64url of a SHA-256");
    }
    std::set<std::string> asked;
    const std::string scope = get("scope");
    for (std::size_t start = 0; start <= scope.size();) {
      auto space = scope.find(' ', start);
      if (space == std::string::npos) space = scope.size();
      if (space > start) asked.insert(scope.substr(start, space - start));
      start = space + 1;
    }
    for (const auto& s : scopes_) {
      if (!asked.contains(s)) return Refuse("authorization: scope " + s + " was not asked for");
    }
    std::lock_guard lock(mu_);
    const std::string code = "code-" + std::to_string(++serial_) + "_x/y+z";  // needs encoding in the form
    codes_[code] = {challenge, get("redirect_uri"), scope};
    const char* separator = redirect_uri_.find('?') == std::string::npos ? "?" : "&";
    return redirect_uri_ + separator + "code=" + Encode(code) + "&state=" + Encode(get("state"));
  }

 private:
  using Response = net::testing::ScriptedResponse;
  struct Grant {
    std::string challenge;
    std::string redirect_uri;
    std::string scope;
  };

  std::string base() const { return "http://127.0.0.1:" + std::to_string(receiver_.port()); }

  static std::string Encode(const std::string& s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
      const auto u = static_cast<unsigned char>(c);
      if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
        out.push_back(c);
      } else {
        out += {'%', kHex[u >> 4], kHex[u & 15]};
      }
    }
    return out;
  }

  std::string Refuse(const std::string& problem) {
    std::lock_guard lock(mu_);
    problems_.push_back(problem);
    return {};
  }

  Response Error(int status, const std::string& code, const std::string& description) {
    {
      std::lock_guard lock(mu_);
      problems_.push_back(code + ": " + description);
    }
    return {status,
            nlohmann::json({{"error", code}, {"error_description", description}}).dump(),
            {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}}};
  }

  Response Answer(const net::testing::ReceivedRequest& r) {
    if (r.method != "POST" || r.target != "/token") return Error(404, "not_found", r.method + " " + r.target);
    auto type = r.headers.find("content-type");
    if (type == r.headers.end() || type->second.rfind("application/x-www-form-urlencoded", 0) != 0) {
      return Error(400, "invalid_request", "the body must be application/x-www-form-urlencoded");
    }
    std::map<std::string, std::string, std::less<>> f;
    try {
      f = web::ParseFormFields(r.body);
    } catch (const AppError& e) {
      return Error(400, "invalid_request", "malformed form body: " + e.message());
    }
    {
      std::lock_guard lock(mu_);
      last_token_request_ = f;
    }
    auto get = [&](const char* name) { return f.contains(name) ? f.at(name) : std::string(); };
    if (r.headers.contains("authorization")) return Error(400, "invalid_request", "client credentials in two places");
    if (get("client_id") != client_id_ || get("client_secret") != client_secret_) {
      return Error(401, "invalid_client", "client authentication failed");
    }
    const std::string grant = get("grant_type");
    std::lock_guard lock(mu_);
    if (grant == "authorization_code") {
      auto it = codes_.find(get("code"));
      if (it == codes_.end()) return Unlocked(400, "invalid_grant", "the code is unknown, used or expired");
      const Grant g = it->second;
      codes_.erase(it);  // once only, even when the rest is wrong
      if (get("redirect_uri") != g.redirect_uri) return Unlocked(400, "invalid_grant", "redirect_uri differs");
      const std::string verifier = get("code_verifier");
      if (verifier.size() < 43 || verifier.size() > 128) {
        return Unlocked(400, "invalid_request", "code_verifier must be 43 to 128 characters");
      }
      if (crypto::Base64UrlEncode(crypto::Sha256(verifier)) != g.challenge) {
        return Unlocked(400, "invalid_grant", "code_verifier does not match the code_challenge");
      }
      return Tokens(g.scope, true);
    }
    if (grant == "refresh_token") {
      const std::string token = get("refresh_token");
      if (!refresh_tokens_.contains(token)) {
        return Unlocked(400, "invalid_grant", "Token has been expired or revoked.");
      }
      if (rotate_) refresh_tokens_.erase(token);
      return Tokens(refresh_tokens_scope_[token], rotate_);
    }
    return Unlocked(400, "unsupported_grant_type", "grant_type " + grant);
  }

  // Error() for when mu_ is held.
  Response Unlocked(int status, const std::string& code, const std::string& description) {
    problems_.push_back(code + ": " + description);
    return {status,
            nlohmann::json({{"error", code}, {"error_description", description}}).dump(),
            {{"Content-Type", "application/json"}}};
  }

  Response Tokens(const std::string& scope, bool new_refresh_token) {
    if (!forced_.empty()) {
      Response forced = std::move(forced_.front());
      forced_.erase(forced_.begin());
      return forced;
    }
    nlohmann::json body = {{"access_token", "ya29.at-" + std::to_string(++serial_)},
                           {"token_type", "Bearer"},
                           {"expires_in", expires_in_},
                           {"scope", scope}};
    if (new_refresh_token) {
      const std::string refresh = "1//rt-" + std::to_string(++serial_);
      refresh_tokens_.insert(refresh);
      refresh_tokens_scope_[refresh] = scope;
      body["refresh_token"] = refresh;
    }
    return {200, body.dump(), {{"Content-Type", "application/json"}, {"Cache-Control", "no-store"}}};
  }

  std::string client_id_;
  std::string client_secret_;
  std::string redirect_uri_;
  std::vector<std::string> scopes_;
  std::mutex mu_;
  bool rotate_ = false;
  nlohmann::json expires_in_ = 3599;
  int serial_ = 0;
  std::map<std::string, Grant> codes_;
  std::set<std::string> refresh_tokens_;
  std::map<std::string, std::string> refresh_tokens_scope_;
  std::vector<Response> forced_;
  std::vector<std::string> problems_;
  std::map<std::string, std::string, std::less<>> last_authorization_;
  std::map<std::string, std::string, std::less<>> last_token_request_;
  net::testing::HttpReceiver receiver_;  // last: its thread stops before the members it uses go
};

}  // namespace poste::mail::testing
