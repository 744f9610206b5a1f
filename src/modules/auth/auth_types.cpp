#include "modules/auth/auth_types.hpp"

#include <nlohmann/json.hpp>

#include "lib/crypto/password.hpp"
#include "lib/error.hpp"

namespace poste::auth {

namespace {

constexpr std::size_t kMaxCodeBytes = 64;

void RequireObject(const nlohmann::json& body) {
  if (!body.is_object()) throw AppError::Validation({{"body", "type", "must be a JSON object"}});
}

std::optional<std::string> String(const nlohmann::json& body, const char* field, bool required, std::size_t max,
                                  std::vector<FieldError>& errors) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) {
    if (required) errors.push_back({field, "required", "is required"});
    return std::nullopt;
  }
  if (!it->is_string()) {
    errors.push_back({field, "type", "must be a string"});
    return std::nullopt;
  }
  const auto& s = it->get_ref<const std::string&>();
  if (required && s.empty()) {
    errors.push_back({field, "required", "is required"});
    return std::nullopt;
  }
  if (s.size() > max) {
    errors.push_back({field, "too_long", "is at most " + std::to_string(max) + " bytes"});
    return std::nullopt;
  }
  return s;
}

bool Bool(const nlohmann::json& body, const char* field, std::vector<FieldError>& errors) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return false;
  if (!it->is_boolean()) {
    errors.push_back({field, "type", "must be true or false"});
    return false;
  }
  return it->get<bool>();
}

}  // namespace

LoginBody ParseLoginBody(const nlohmann::json& body) {
  RequireObject(body);
  std::vector<FieldError> errors;
  LoginBody out;
  if (auto v = String(body, "email", true, users::kMaxEmailBytes + 64, errors)) out.email = *v;
  if (auto v = String(body, "password", true, crypto::kMaxPasswordBytes, errors)) out.password = *v;
  out.totp = String(body, "totp", false, kMaxCodeBytes, errors);
  out.cookie = Bool(body, "cookie", errors);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  return out;
}

RefreshBody ParseRefreshBody(const nlohmann::json* body) {
  RefreshBody out;
  if (!body) return out;
  RequireObject(*body);
  std::vector<FieldError> errors;
  out.refresh_token = String(*body, "refresh_token", false, 256, errors);
  out.cookie = Bool(*body, "cookie", errors);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  return out;
}

ApiKeyBody ParseApiKeyBody(const nlohmann::json& body, std::int64_t now_ms) {
  RequireObject(body);
  std::vector<FieldError> errors;
  ApiKeyBody out;
  if (auto v = String(body, "name", true, 4 * users::kMaxNameChars, errors)) {
    out.name = *v;
    auto name_errors = users::ValidateName(out.name, "name");
    errors.insert(errors.end(), name_errors.begin(), name_errors.end());
  }
  if (auto it = body.find("site_ids"); it != body.end() && !it->is_null()) {
    bool ok = it->is_array() && it->size() <= 1000;
    if (ok) {
      for (const auto& v : *it) {
        if (!v.is_number_integer()) {
          ok = false;
          break;
        }
        out.site_ids.push_back(v.get<std::int64_t>());
      }
    }
    if (!ok) {
      errors.push_back({"site_ids", "type", "must be an array of site ids"});
    } else {
      auto site_errors = users::ValidateSiteIds(out.site_ids, "site_ids");
      errors.insert(errors.end(), site_errors.begin(), site_errors.end());
    }
  }
  if (auto it = body.find("expires_at"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer()) {
      errors.push_back({"expires_at", "type", "must be a time in epoch milliseconds"});
    } else if (it->get<std::int64_t>() <= now_ms) {
      errors.push_back({"expires_at", "past", "must be in the future"});
    } else {
      out.expires_at = it->get<std::int64_t>();
    }
  }
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  return out;
}

std::string ParseCode(const nlohmann::json& body, const char* field) {
  RequireObject(body);
  std::vector<FieldError> errors;
  auto v = String(body, field, true, field == std::string_view("password") ? crypto::kMaxPasswordBytes : kMaxCodeBytes,
                  errors);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  return *v;
}

nlohmann::json TokensJson(const IssuedTokens& tokens, bool include_tokens) {
  nlohmann::json out = {{"token_type", "Bearer"}, {"expires_in", tokens.expires_in_s}};
  if (include_tokens) {
    out["access_token"] = tokens.access_token;
    out["refresh_token"] = tokens.refresh_token;
  }
  return out;
}

}  // namespace poste::auth
