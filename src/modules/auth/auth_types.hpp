#pragma once
// The auth module's request bodies (parsed and validated) and response documents.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modules/auth/token_service.hpp"
#include "modules/users/users_types.hpp"

namespace poste::auth {

// POST /auth/login {email, password, totp?, cookie?}
struct LoginBody {
  std::string email;
  std::string password;
  std::optional<std::string> totp;
  bool cookie = false;  // browser mode: the tokens travel as cookies
};

// POST /auth/refresh and /auth/logout {refresh_token?, cookie?}
struct RefreshBody {
  std::optional<std::string> refresh_token;
  bool cookie = false;
};

// POST /auth/api-keys {name, site_ids?, expires_at?}
struct ApiKeyBody {
  std::string name;
  std::vector<std::int64_t> site_ids;
  std::optional<std::int64_t> expires_at;  // epoch ms
};

// Throw AppError::Validation (422) with one error per bad field.
LoginBody ParseLoginBody(const nlohmann::json& body);
// An empty or absent body is allowed (the cookie may carry the token): pass nullptr.
RefreshBody ParseRefreshBody(const nlohmann::json* body);
ApiKeyBody ParseApiKeyBody(const nlohmann::json& body, std::int64_t now_ms);
std::string ParseCode(const nlohmann::json& body, const char* field);

// {token_type: "Bearer", expires_in, access_token, refresh_token} (the tokens left out when include_tokens is
// false: browser mode, where they live in HttpOnly cookies only).
nlohmann::json TokensJson(const IssuedTokens& tokens, bool include_tokens);

}  // namespace poste::auth
