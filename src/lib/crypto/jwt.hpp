#pragma once
// JSON Web Tokens (RFC 7519) signed with HS256 only, for short-lived access tokens.
//
// A small implementation of our own instead of libjwt, whose decode accepts alg=none when given a NULL key
// and does not check exp. Here the algorithm is pinned (the header must say HS256, and nothing in the
// header selects a key or an algorithm), exp is required, and the signature is checked in constant time
// before the payload is even parsed.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace poste::crypto {

// Larger tokens are rejected as malformed before any decoding or hashing; ours are a few hundred bytes.
inline constexpr std::size_t kMaxJwtBytes = std::size_t{8} * 1024;
// RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
inline constexpr std::size_t kMinJwtKeyBytes = 32;

enum class JwtError {
  kNone,
  kMalformed,      // not three base64url parts, bad JSON, header/claims not objects, bad claim types, crit
  kBadSignature,   // the signature does not match (or the key is unusable)
  kAlgNotAllowed,  // the header's alg is not HS256: "none", "HS512", "RS256", missing...
  kExpired,        // now >= exp + leeway
  kNotYetValid,    // now + leeway < nbf
  kWrongIssuer,
  kWrongAudience,
  kMissingExp,  // a token that never expires is not accepted
};

// "malformed", "bad_signature", ...: stable names for logs and metrics.
std::string_view JwtErrorName(JwtError error);

struct JwtVerifyOptions {
  std::string issuer;    // required value of "iss"; empty skips the check
  std::string audience;  // must equal "aud" or be one of its elements; empty skips the check
  int64_t now_s = 0;     // current Unix time, passed in so that callers and tests control the clock
  int64_t leeway_s = 0;  // clock skew tolerated on exp and nbf
};

struct JwtVerifyResult {
  JwtError error = JwtError::kMalformed;
  nlohmann::json claims;  // the payload, set only when error == kNone

  bool ok() const { return error == JwtError::kNone; }
};

// Signs `claims` (a JSON object; the caller sets exp, iat, iss, aud, sub...) under the header
// {"alg":"HS256","typ":"JWT"}. Throws CryptoError when claims is not an object or the key is shorter than
// kMinJwtKeyBytes.
std::string SignJwt(const nlohmann::json& claims, std::string_view key);

// Never throws on any token content.
JwtVerifyResult VerifyJwt(std::string_view token, std::string_view key, const JwtVerifyOptions& options);

}  // namespace poste::crypto
