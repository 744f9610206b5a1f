#include "lib/crypto/jwt.hpp"

#include <algorithm>
#include <optional>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"

namespace poste::crypto {

namespace {

using nlohmann::json;

const std::string& EncodedHeader() {
  static const std::string header = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})");
  return header;
}

JwtVerifyResult Fail(JwtError error) { return {error, {}}; }

// A base64url part that must hold a JSON object; nullopt for anything else (including invalid UTF-8).
std::optional<json> DecodeObject(std::string_view part) {
  auto raw = Base64UrlDecode(part);
  if (!raw) return std::nullopt;
  json value = json::parse(*raw, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object()) return std::nullopt;
  return value;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
    return lower(x) == lower(y);
  });
}

// RFC 7519 NumericDate: a JSON number of seconds, possibly fractional. Absent → nullopt; present but not a
// number → error.
struct TimeClaim {
  bool malformed = false;
  std::optional<double> value;
};

TimeClaim ReadTime(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return {};
  if (!it->is_number()) return {true, std::nullopt};
  return {false, it->get<double>()};
}

JwtError CheckHeader(const json& header) {
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string() || alg->get_ref<const std::string&>() != "HS256") {
    return JwtError::kAlgNotAllowed;
  }
  if (auto typ = header.find("typ"); typ != header.end()) {
    if (!typ->is_string() || !EqualsIgnoreCase(typ->get_ref<const std::string&>(), "JWT")) return JwtError::kMalformed;
  }
  // RFC 7515 §4.1.11: extensions listed in "crit" must be understood, and we understand none.
  if (header.contains("crit")) return JwtError::kMalformed;
  return JwtError::kNone;
}

JwtError CheckClaims(const json& claims, const JwtVerifyOptions& options) {
  TimeClaim exp = ReadTime(claims, "exp"), nbf = ReadTime(claims, "nbf"), iat = ReadTime(claims, "iat");
  if (exp.malformed || nbf.malformed || iat.malformed) return JwtError::kMalformed;
  if (!exp.value) return JwtError::kMissingExp;
  const double now = static_cast<double>(options.now_s);
  const double leeway = static_cast<double>(options.leeway_s);
  if (now >= *exp.value + leeway) return JwtError::kExpired;
  if (nbf.value && now + leeway < *nbf.value) return JwtError::kNotYetValid;

  if (!options.issuer.empty()) {
    auto iss = claims.find("iss");
    if (iss == claims.end() || !iss->is_string() || iss->get_ref<const std::string&>() != options.issuer) {
      return JwtError::kWrongIssuer;
    }
  }
  if (!options.audience.empty()) {
    auto aud = claims.find("aud");
    if (aud == claims.end()) return JwtError::kWrongAudience;
    bool match = false;
    if (aud->is_string()) {
      match = aud->get_ref<const std::string&>() == options.audience;
    } else if (aud->is_array()) {
      for (const auto& item : *aud) {
        if (!item.is_string()) return JwtError::kMalformed;
        match = match || item.get_ref<const std::string&>() == options.audience;
      }
    } else {
      return JwtError::kMalformed;
    }
    if (!match) return JwtError::kWrongAudience;
  }
  return JwtError::kNone;
}

}  // namespace

std::string_view JwtErrorName(JwtError error) {
  switch (error) {
    case JwtError::kNone:
      return "none";
    case JwtError::kMalformed:
      return "malformed";
    case JwtError::kBadSignature:
      return "bad_signature";
    case JwtError::kAlgNotAllowed:
      return "alg_not_allowed";
    case JwtError::kExpired:
      return "expired";
    case JwtError::kNotYetValid:
      return "not_yet_valid";
    case JwtError::kWrongIssuer:
      return "wrong_issuer";
    case JwtError::kWrongAudience:
      return "wrong_audience";
    case JwtError::kMissingExp:
      return "missing_exp";
  }
  return "unknown";
}

std::string SignJwt(const nlohmann::json& claims, std::string_view key) {
  if (!claims.is_object()) throw CryptoError("JWT claims must be a JSON object");
  if (key.size() < kMinJwtKeyBytes) throw CryptoError("JWT signing key is shorter than 32 bytes");
  std::string payload;
  try {
    payload = claims.dump();
  } catch (const json::exception&) {
    throw CryptoError("JWT claims contain a string that is not valid UTF-8");
  }
  std::string token = EncodedHeader();
  token.push_back('.');
  token += Base64UrlEncode(payload);
  std::string signature = Base64UrlEncode(HmacSha256(key, token));
  token.push_back('.');
  token += signature;
  return token;
}

JwtVerifyResult VerifyJwt(std::string_view token, std::string_view key, const JwtVerifyOptions& options) {
  if (token.size() > kMaxJwtBytes) return Fail(JwtError::kMalformed);
  const auto dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return Fail(JwtError::kMalformed);
  const auto dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Fail(JwtError::kMalformed);
  }
  auto header = DecodeObject(token.substr(0, dot1));
  if (!header) return Fail(JwtError::kMalformed);
  if (JwtError error = CheckHeader(*header); error != JwtError::kNone) return Fail(error);

  auto signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!signature) return Fail(JwtError::kMalformed);
  if (key.size() < kMinJwtKeyBytes) return Fail(JwtError::kBadSignature);
  std::string expected = HmacSha256(key, token.substr(0, dot2));
  if (!ConstantTimeEquals(expected, *signature)) return Fail(JwtError::kBadSignature);

  // Only a payload we signed ourselves gets parsed.
  auto claims = DecodeObject(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!claims) return Fail(JwtError::kMalformed);
  if (JwtError error = CheckClaims(*claims, options); error != JwtError::kNone) return Fail(error);
  return {JwtError::kNone, std::move(*claims)};
}

}  // namespace poste::crypto
