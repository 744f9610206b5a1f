#include "lib/crypto/totp.hpp"

#include <gtest/gtest.h>

#include <set>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/encoding.hpp"

namespace poste::crypto {
namespace {

constexpr std::string_view kRfcSecret = "12345678901234567890";  // RFC 6238 Appendix B, SHA-1

struct Vector {
  int64_t time;
  const char* code8;
};
constexpr Vector kRfcVectors[] = {
    {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
    {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
};

TEST(Totp, MatchesRfc6238EightDigitVectors) {
  for (const auto& v : kRfcVectors) EXPECT_EQ(Totp(kRfcSecret, v.time, {8, 30}), v.code8) << v.time;
}

TEST(Totp, SixDigitCodesAreTheLowDigits) {
  // code mod 10^6, zero-padded: 07081804 → 081804 keeps its leading zero.
  for (const auto& v : kRfcVectors) EXPECT_EQ(Totp(kRfcSecret, v.time), std::string(v.code8).substr(2)) << v.time;
  EXPECT_EQ(Totp(kRfcSecret, 1111111109), "081804");
  EXPECT_EQ(Totp(kRfcSecret, 1234567890, {7, 30}), "9005924");
}

TEST(Totp, CodesChangeWithTheStep) {
  constexpr int64_t kTime = 1234567890, kStepStart = kTime / 30 * 30;
  EXPECT_EQ(Totp(kRfcSecret, kTime), Totp(kRfcSecret, kStepStart));
  EXPECT_EQ(Totp(kRfcSecret, kTime), Totp(kRfcSecret, kStepStart + 29));
  EXPECT_NE(Totp(kRfcSecret, kTime), Totp(kRfcSecret, kTime + 30));
  EXPECT_EQ(TotpStep(59), 1);
  EXPECT_EQ(TotpStep(60), 2);
  EXPECT_EQ(TotpStep(-1), -1);
  EXPECT_EQ(TotpStep(120, {6, 60}), 2);
}

TEST(Totp, VerifiesWithinTheWindowAndReturnsTheStep) {
  const int64_t now = 1234567890, step = now / 30;
  EXPECT_EQ(VerifyTotp(kRfcSecret, Totp(kRfcSecret, now), now), step);
  EXPECT_EQ(VerifyTotp(kRfcSecret, Totp(kRfcSecret, now - 30), now), step - 1);
  EXPECT_EQ(VerifyTotp(kRfcSecret, Totp(kRfcSecret, now + 30), now), step + 1);
  EXPECT_FALSE(VerifyTotp(kRfcSecret, Totp(kRfcSecret, now - 60), now));
  EXPECT_FALSE(VerifyTotp(kRfcSecret, Totp(kRfcSecret, now + 60), now));
  EXPECT_FALSE(VerifyTotp(kRfcSecret, Totp(kRfcSecret, now - 30), now, 0));
  EXPECT_EQ(VerifyTotp(kRfcSecret, Totp(kRfcSecret, now - 60), now, 2), step - 2);
  EXPECT_EQ(VerifyTotp(kRfcSecret, "89005924", 1234567890, 0, {8, 30}), step);
  // The same code a second time returns the same step: the caller's "step > last used" check refuses it.
  EXPECT_EQ(VerifyTotp(kRfcSecret, Totp(kRfcSecret, now), now + 5), step);
}

TEST(Totp, RejectsMalformedCodesAndSecrets) {
  const int64_t now = 1234567890;
  std::string code = Totp(kRfcSecret, now);
  for (const std::string& bad : {std::string(), std::string("12345"), std::string("1234567"), code + " ", " " + code,
                                 std::string("12345a"), std::string("+12345"), std::string("-12345"),
                                 std::string("１２３４５６"), std::string(1 << 20, '1'), std::string("00000\0", 6)}) {
    EXPECT_FALSE(VerifyTotp(kRfcSecret, bad, now)) << bad.substr(0, 20);
  }
  EXPECT_FALSE(VerifyTotp("", code, now));
  EXPECT_FALSE(VerifyTotp("another secret", code, now));
  EXPECT_FALSE(VerifyTotp(kRfcSecret, Totp(kRfcSecret, now, {8, 30}), now));  // 8 digits where 6 are expected
  // Near the epoch the window does not reach negative steps.
  EXPECT_EQ(VerifyTotp(kRfcSecret, Totp(kRfcSecret, 0), 10), 0);
}

TEST(Totp, RefusesBadParameters) {
  EXPECT_THROW(Totp(kRfcSecret, 59, {5, 30}), CryptoError);
  EXPECT_THROW(Totp(kRfcSecret, 59, {9, 30}), CryptoError);
  EXPECT_THROW(Totp(kRfcSecret, 59, {6, 0}), CryptoError);
  EXPECT_THROW(Totp("", 59), CryptoError);
  EXPECT_THROW(Totp(kRfcSecret, -1), CryptoError);
  EXPECT_THROW(VerifyTotp(kRfcSecret, "123456", 59, -1), CryptoError);
  EXPECT_THROW(VerifyTotp(kRfcSecret, "123456", 59, 11), CryptoError);
}

TEST(Totp, ProvisioningUri) {
  EXPECT_EQ(ProvisioningUri("Poste", "ada@example.com", kRfcSecret),
            "otpauth://totp/Poste:ada%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Poste"
            "&algorithm=SHA1&digits=6&period=30");
  // Spaces, '&', '?', '#', '/', '+', '=' and non-ASCII are percent-encoded, so none can break out of their place.
  EXPECT_EQ(ProvisioningUri("Acme & Co/Mail", "a+b=c?d#e f@\xc3\xa9.fr", "s", {8, 60}),
            "otpauth://totp/Acme%20%26%20Co%2FMail:a%2Bb%3Dc%3Fd%23e%20f%40%C3%A9.fr?secret=OM"
            "&issuer=Acme%20%26%20Co%2FMail&algorithm=SHA1&digits=8&period=60");
  EXPECT_THROW(ProvisioningUri("Evil:Issuer", "a@b.c", "s"), CryptoError);
  EXPECT_THROW(ProvisioningUri("Poste", "a:b", "s"), CryptoError);
  EXPECT_THROW(ProvisioningUri("", "a@b.c", "s"), CryptoError);
  EXPECT_THROW(ProvisioningUri("Poste", "", "s"), CryptoError);
  EXPECT_THROW(ProvisioningUri("Poste", "a@b.c", ""), CryptoError);
}

TEST(Totp, GeneratesSecrets) {
  std::string secret = GenerateTotpSecret();
  EXPECT_EQ(secret.size(), 20u);
  EXPECT_NE(secret, GenerateTotpSecret());
  EXPECT_EQ(Base32Encode(secret).size(), 32u);
}

TEST(Totp, RecoveryCodes) {
  auto codes = GenerateRecoveryCodes();
  ASSERT_EQ(codes.size(), 10u);
  std::set<std::string> distinct(codes.begin(), codes.end());
  EXPECT_EQ(distinct.size(), 10u);
  for (const auto& code : codes) {
    ASSERT_EQ(code.size(), 9u) << code;
    EXPECT_EQ(code[4], '-') << code;
    std::string plain = code.substr(0, 4) + code.substr(5);
    EXPECT_EQ(plain.find_first_not_of("23456789abcdefghjkmnpqrstuvwxyz"), std::string::npos) << code;
    EXPECT_EQ(NormalizeRecoveryCode(code).value(), plain);
  }
  EXPECT_EQ(GenerateRecoveryCodes(3).size(), 3u);
  EXPECT_TRUE(GenerateRecoveryCodes(0).empty());

  EXPECT_EQ(NormalizeRecoveryCode(" 7KQ3 X9MF ").value(), "7kq3x9mf");
  EXPECT_EQ(NormalizeRecoveryCode("7kq3x9mf").value(), "7kq3x9mf");
  for (const char* bad :
       {"", "7kq3-x9m", "7kq3-x9mfa", "0kq3-x9mf", "1kq3-x9mf", "okq3-x9mf", "7kq3_x9mf", "7kq3-x9m\xc3\xa9"}) {
    EXPECT_FALSE(NormalizeRecoveryCode(bad)) << bad;
  }
  EXPECT_FALSE(NormalizeRecoveryCode(std::string(10000, '-')));
}

}  // namespace
}  // namespace poste::crypto
