#include "lib/crypto/jwt.hpp"

#include <gtest/gtest.h>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"

namespace poste::crypto {
namespace {

using nlohmann::json;

constexpr std::string_view kKey = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";  // 32 bytes
constexpr int64_t kNow = 1'700'000'000;

JwtVerifyOptions Options() { return {"poste", "poste-api", kNow, 0}; }

json Claims() { return {{"sub", "42"}, {"iss", "poste"}, {"aud", "poste-api"}, {"iat", kNow}, {"exp", kNow + 900}}; }

// A token with exactly the header and payload text given, signed (or not) as an attacker would.
std::string Forge(std::string_view header, std::string_view payload, std::string_view key = kKey) {
  std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  return input + "." + (key.empty() ? "" : Base64UrlEncode(HmacSha256(key, input)));
}

JwtError ErrorOf(std::string_view token, const JwtVerifyOptions& options = Options()) {
  return VerifyJwt(token, kKey, options).error;
}

TEST(Jwt, RoundTrips) {
  std::string token = SignJwt(Claims(), kKey);
  EXPECT_TRUE(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.")) << token;  // {"alg":"HS256","typ":"JWT"}
  JwtVerifyResult result = VerifyJwt(token, kKey, Options());
  ASSERT_TRUE(result.ok()) << JwtErrorName(result.error);
  EXPECT_EQ(result.claims, Claims());
}

TEST(Jwt, MatchesAnIndependentImplementation) {
  // Computed with Python's hmac module over the same header and payload bytes.
  std::string token = SignJwt({{"exp", 2000000000}, {"sub", "1"}}, kKey);
  EXPECT_EQ(token,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjIwMDAwMDAwMDAsInN1YiI6IjEifQ."
            "yuB-ZZZtfGxaB1mYvDlxMAFdDMN-VRuBwIlpCRi8spY");
}

TEST(Jwt, RejectsTamperedPayloadAndSignature) {
  std::string token = SignJwt(Claims(), kKey);
  auto dot1 = token.find('.'), dot2 = token.rfind('.');
  json elevated = Claims();
  elevated["sub"] = "1";
  std::string swapped_payload = token.substr(0, dot1 + 1) + Base64UrlEncode(elevated.dump()) + token.substr(dot2);
  EXPECT_EQ(ErrorOf(swapped_payload), JwtError::kBadSignature);

  std::string sig = Base64UrlDecode(token.substr(dot2 + 1)).value();
  sig[0] ^= 1;
  EXPECT_EQ(ErrorOf(token.substr(0, dot2 + 1) + Base64UrlEncode(sig)), JwtError::kBadSignature);
  EXPECT_EQ(ErrorOf(token.substr(0, dot2 + 1) + Base64UrlEncode(sig.substr(0, 31))), JwtError::kBadSignature);
  EXPECT_EQ(ErrorOf(token.substr(0, dot2 + 1)), JwtError::kBadSignature);  // empty signature
  EXPECT_EQ(VerifyJwt(token, std::string(32, 'x'), Options()).error, JwtError::kBadSignature);
}

TEST(Jwt, RefusesEveryAlgorithmButHs256) {
  std::string payload = Claims().dump();
  // alg=none with an empty signature: the classic bypass.
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":"none","typ":"JWT"})", payload, "")), JwtError::kAlgNotAllowed);
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":"none"})", payload, "")), JwtError::kAlgNotAllowed);
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":"None"})", payload, "")), JwtError::kAlgNotAllowed);
  // Even correctly HMAC-signed, a header naming another algorithm is refused.
  for (const char* alg : {"HS512", "HS384", "RS256", "ES256", "PS256", "EdDSA", "hs256", "HS256 ", ""}) {
    EXPECT_EQ(ErrorOf(Forge(json{{"alg", alg}, {"typ", "JWT"}}.dump(), payload)), JwtError::kAlgNotAllowed) << alg;
  }
  EXPECT_EQ(ErrorOf(Forge(R"({"typ":"JWT"})", payload)), JwtError::kAlgNotAllowed);
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":null})", payload)), JwtError::kAlgNotAllowed);
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":["HS256"]})", payload)), JwtError::kAlgNotAllowed);
  // A correctly signed HS256 token without "typ" is fine; headers we do not understand are not.
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":"HS256"})", payload)), JwtError::kNone);
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":"HS256","typ":"at+jwt"})", payload)), JwtError::kMalformed);
  EXPECT_EQ(ErrorOf(Forge(R"({"alg":"HS256","crit":["exp"]})", payload)), JwtError::kMalformed);
  // A kid or jku cannot steer key selection: there is none to steer.
  EXPECT_EQ(
      ErrorOf(Forge(R"({"alg":"HS256","kid":"../../dev/null","jku":"http://evil"})", payload, std::string(32, 'o'))),
      JwtError::kBadSignature);
}

TEST(Jwt, ChecksTimeClaims) {
  json claims = Claims();
  claims["exp"] = kNow - 1;
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kExpired);
  claims["exp"] = kNow;  // exp is the first instant it is no longer valid
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kExpired);
  JwtVerifyOptions lenient = Options();
  lenient.leeway_s = 30;
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey), lenient), JwtError::kNone);

  claims = Claims();
  claims["nbf"] = kNow + 60;
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kNotYetValid);
  claims["nbf"] = kNow + 20;
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey), lenient), JwtError::kNone);
  claims["nbf"] = kNow;
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kNone);

  claims = Claims();
  claims.erase("exp");
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kMissingExp);
  for (const json& bad : {json("2000000000"), json(nullptr), json::array(), json(true)}) {
    claims["exp"] = bad;
    EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kMalformed) << bad.dump();
  }
  claims = Claims();
  claims["nbf"] = "soon";
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kMalformed);
  claims = Claims();
  claims["exp"] = static_cast<double>(kNow) + 0.5;  // NumericDate may be fractional
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kNone);
}

TEST(Jwt, ChecksIssuerAndAudience) {
  json claims = Claims();
  claims["iss"] = "someone-else";
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kWrongIssuer);
  claims.erase("iss");
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kWrongIssuer);
  claims["iss"] = 7;
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kWrongIssuer);

  claims = Claims();
  claims["aud"] = "other-api";
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kWrongAudience);
  claims["aud"] = json::array({"other-api", "poste-api"});
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kNone);
  claims["aud"] = json::array({"other-api"});
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kWrongAudience);
  claims["aud"] = json::array();
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kWrongAudience);
  claims["aud"] = json::array({"poste-api", 3});
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kMalformed);
  claims["aud"] = json::object({{"poste-api", true}});
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kMalformed);
  claims.erase("aud");
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey)), JwtError::kWrongAudience);

  // Empty options skip the checks.
  JwtVerifyOptions unchecked{"", "", kNow, 0};
  EXPECT_EQ(ErrorOf(SignJwt(claims, kKey), unchecked), JwtError::kNone);
}

TEST(Jwt, RejectsGarbage) {
  std::string good = SignJwt(Claims(), kKey);
  auto dot1 = good.find('.');
  for (const std::string& bad :
       {std::string(), std::string("."), std::string(".."), std::string("..."), std::string("garbage"),
        std::string("a.b"), std::string("a.b.c"), good + ".", good + ".extra", "." + good, good.substr(0, dot1),
        std::string("!!!.e30.") + good.substr(good.rfind('.') + 1), good.substr(0, good.size() - 1) + "=", good + " ",
        " " + good, good.substr(0, dot1 - 2) + "==" + good.substr(dot1)}) {
    EXPECT_EQ(ErrorOf(bad), JwtError::kMalformed) << bad;
  }
  EXPECT_EQ(ErrorOf("e30.e30.e30"), JwtError::kAlgNotAllowed);  // {}.{}.{}
  // Headers that are not JSON objects.
  std::string payload = Claims().dump();
  for (const char* header : {"not json", "[\"HS256\"]", "\"HS256\"", "null", "{\"alg\":\"HS256\"", "",
                             "{\"alg\":\"HS256\"}garbage", "\xff\xfe"}) {
    EXPECT_EQ(ErrorOf(Forge(header, payload)), JwtError::kMalformed) << header;
  }
  // A correctly signed payload that is not an object.
  for (const char* bad_payload : {"[]", "42", "\"str\"", "not json", "{\"exp\":1", "\xc3\x28"}) {
    EXPECT_EQ(ErrorOf(Forge(R"({"alg":"HS256"})", bad_payload)), JwtError::kMalformed) << bad_payload;
  }
}

TEST(Jwt, RejectsHugeAndDeeplyNestedTokensCheaply) {
  std::string huge = SignJwt({{"exp", kNow + 60}, {"pad", std::string(kMaxJwtBytes, 'x')}}, kKey);
  EXPECT_EQ(ErrorOf(huge), JwtError::kMalformed);
  EXPECT_EQ(ErrorOf(std::string(10 << 20, 'a')), JwtError::kMalformed);
  // Nested as deep as 8 KiB allows, in the (unauthenticated) header: no crash, no stack exhaustion.
  std::string nested = std::string(3000, '[') + std::string(3000, ']');
  EXPECT_EQ(ErrorOf(Forge(nested, "{}", "")), JwtError::kMalformed);
  std::string nested_alg = R"({"alg":"HS256","x":)" + std::string(2900, '[') + std::string(2900, ']') + "}";
  EXPECT_EQ(ErrorOf(Forge(nested_alg, Claims().dump())), JwtError::kNone);
}

TEST(Jwt, RefusesWeakKeysAndNonObjectClaims) {
  EXPECT_THROW(SignJwt(Claims(), ""), CryptoError);
  EXPECT_THROW(SignJwt(Claims(), std::string(31, 'k')), CryptoError);
  EXPECT_THROW(SignJwt(json::array({1}), kKey), CryptoError);
  EXPECT_THROW(SignJwt(json{{"name", "\xff"}}, kKey), CryptoError);
  std::string token = SignJwt(Claims(), kKey);
  EXPECT_EQ(VerifyJwt(token, "", Options()).error, JwtError::kBadSignature);
  // A short key is refused even when it is the one that signed.
  std::string short_key(16, 's');
  EXPECT_EQ(VerifyJwt(Forge(R"({"alg":"HS256"})", Claims().dump(), short_key), short_key, Options()).error,
            JwtError::kBadSignature);
}

TEST(Jwt, ErrorNames) {
  EXPECT_EQ(JwtErrorName(JwtError::kAlgNotAllowed), "alg_not_allowed");
  EXPECT_EQ(JwtErrorName(JwtError::kMissingExp), "missing_exp");
  EXPECT_EQ(JwtErrorName(JwtError::kBadSignature), "bad_signature");
}

}  // namespace
}  // namespace poste::crypto
