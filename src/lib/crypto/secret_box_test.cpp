#include "lib/crypto/secret_box.hpp"

#include <gtest/gtest.h>

#include <set>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/encoding.hpp"

namespace poste::crypto {
namespace {

// Expects `fn` to throw CryptoError whose message contains `fragment`.
template <typename Fn>
void ExpectCryptoError(Fn fn, std::string_view fragment) {
  try {
    fn();
    ADD_FAILURE() << "no CryptoError; expected one mentioning: " << fragment;
  } catch (const CryptoError& e) {
    EXPECT_NE(std::string_view(e.what()).find(fragment), std::string_view::npos) << e.what();
  }
}

TEST(SecretBox, SealsAndOpens) {
  SecretBox box = SecretBox::FromKeys(GenerateSecretKey());
  std::string sealed = box.Seal("smtp-password", "site:3:smtp.password");
  EXPECT_TRUE(sealed.starts_with("v1:" + box.current_key_id() + ":")) << sealed;
  EXPECT_EQ(sealed.find("smtp-password"), std::string::npos);
  EXPECT_EQ(box.Open(sealed, "site:3:smtp.password"), "smtp-password");
  EXPECT_EQ(SecretBox::KeyIdOf(sealed), box.current_key_id());
  EXPECT_FALSE(box.NeedsReseal(sealed));

  EXPECT_EQ(box.Open(box.Seal("")), "");
  std::string binary("\0\x01\xff secret\n", 10);
  EXPECT_EQ(box.Open(box.Seal(binary, "ad"), "ad"), binary);
  std::string largest(kMaxSecretBytes, 's');
  EXPECT_EQ(box.Open(box.Seal(largest)), largest);
}

TEST(SecretBox, UsesAFreshNonceEverySeal) {
  SecretBox box = SecretBox::FromKeys(GenerateSecretKey());
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) seen.insert(box.Seal("same"));
  EXPECT_EQ(seen.size(), 50u);
}

TEST(SecretBox, AssociatedDataBindsTheSecretToItsRow) {
  SecretBox box = SecretBox::FromKeys(GenerateSecretKey());
  std::string sealed = box.Seal("pw", "site:3:smtp.password");
  ExpectCryptoError([&] { box.Open(sealed, "site:4:smtp.password"); }, "authentication failed");
  ExpectCryptoError([&] { box.Open(sealed); }, "authentication failed");
  ExpectCryptoError([&] { box.Open(box.Seal("pw"), "site:3:smtp.password"); }, "authentication failed");
}

TEST(SecretBox, DetectsEveryTamperedByte) {
  SecretBox box = SecretBox::FromKeys(GenerateSecretKey());
  std::string sealed = box.Seal("hunter2");
  auto prefix_end = sealed.rfind(':') + 1;
  std::string payload = Base64UrlDecode(sealed.substr(prefix_end)).value();
  for (std::size_t i = 0; i < payload.size(); ++i) {  // nonce, ciphertext and tag alike
    std::string altered = payload;
    altered[i] ^= 0x01;
    std::string tampered = sealed.substr(0, prefix_end) + Base64UrlEncode(altered);
    EXPECT_THROW(box.Open(tampered), CryptoError) << "byte " << i;
  }
  // Truncated tag, extra byte.
  EXPECT_THROW(box.Open(sealed.substr(0, prefix_end) + Base64UrlEncode(payload.substr(0, payload.size() - 1))),
               CryptoError);
  EXPECT_THROW(box.Open(sealed.substr(0, prefix_end) + Base64UrlEncode(payload + "x")), CryptoError);
}

TEST(SecretBox, RotatesKeys) {
  SecretKey old_key = GenerateSecretKey(), new_key = GenerateSecretKey();
  SecretBox before = SecretBox::FromKeys(old_key);
  std::string sealed = before.Seal("token", "row:1");

  SecretBox after = SecretBox::FromKeys(new_key, std::span<const SecretKey>(&old_key, 1));
  EXPECT_EQ(after.current_key_id(), KeyCheck(new_key));
  EXPECT_TRUE(after.NeedsReseal(sealed));
  EXPECT_EQ(after.Open(sealed, "row:1"), "token");
  std::string resealed = after.Seal(after.Open(sealed, "row:1"), "row:1");
  EXPECT_FALSE(after.NeedsReseal(resealed));
  EXPECT_EQ(SecretBox::KeyIdOf(resealed), KeyCheck(new_key));

  // A server that only has the new key says which key it is missing.
  SecretBox only_new = SecretBox::FromKeys(new_key);
  ExpectCryptoError([&] { only_new.Open(sealed, "row:1"); }, "'" + KeyCheck(old_key) + "', which is not loaded");
}

TEST(SecretBox, AKeyIdCannotBeSwapped) {
  // Two ids for the same key: relabelling a value under the other id must still fail, since the id is
  // authenticated.
  SecretKey key = GenerateSecretKey();
  SecretBox box({{"a", key}, {"b", key}}, "a");
  std::string sealed = box.Seal("x");
  std::string relabelled = "v1:b:" + sealed.substr(5);
  EXPECT_THROW(box.Open(relabelled), CryptoError);
  EXPECT_EQ(box.Open(sealed), "x");
}

TEST(SecretBox, WrongKeyFailsAuthentication) {
  SecretKey key = GenerateSecretKey(), other = GenerateSecretKey();
  std::string sealed = SecretBox({{"k1", key}}, "k1").Seal("x");
  ExpectCryptoError([&] { SecretBox({{"k1", other}}, "k1").Open(sealed); }, "authentication failed");
}

TEST(SecretBox, RejectsMalformedSealedValues) {
  SecretBox box({{"k1", GenerateSecretKey()}}, "k1");
  std::string good = box.Seal("x");
  const std::string malformed[] = {
      "",
      "v1",
      "v1:",
      "v1:k1",
      "v1:k1:",
      "v2" + good.substr(2),
      "V1" + good.substr(2),
      "v1::" + good.substr(6),
      "v1:k1:" + Base64UrlEncode(std::string(27, 'x')),  // shorter than nonce + tag
      good + "=",
      good + "!",
      "v1:k 1:" + good.substr(6),
      "v1:" + std::string(65, 'k') + ":" + good.substr(6),
      "v1:k1:" + std::string(300000, 'A'),
      "plaintext password",
  };
  for (const auto& sealed : malformed) {
    EXPECT_THROW(box.Open(sealed), CryptoError) << sealed.substr(0, 80);
  }
  ExpectCryptoError([&] { SecretBox::KeyIdOf("plaintext password"); }, "not in the v1 format");
  EXPECT_THROW(box.Seal(std::string(kMaxSecretBytes + 1, 's')), CryptoError);
}

TEST(SecretBox, ValidatesItsKeys) {
  SecretKey key = GenerateSecretKey();
  EXPECT_THROW(SecretBox({}, "k1"), CryptoError);
  EXPECT_THROW(SecretBox({{"k1", key}}, "k2"), CryptoError);
  EXPECT_THROW(SecretBox({{"", key}}, ""), CryptoError);
  EXPECT_THROW(SecretBox({{"has:colon", key}}, "has:colon"), CryptoError);
  EXPECT_THROW(SecretBox({{std::string(65, 'k'), key}}, std::string(65, 'k')), CryptoError);
  EXPECT_NO_THROW(SecretBox({{std::string(64, 'k'), key}}, std::string(64, 'k')));
}

TEST(SecretBox, KeyCheckIsStableAndDistinguishesKeys) {
  SecretKey zero{};
  SecretKey one{};
  one[0] = 1;
  // HMAC-SHA256(key, "poste.key-check.v1"), first 4 bytes: pinned, since stored key ids depend on it.
  EXPECT_EQ(KeyCheck(zero), "088e4884");
  EXPECT_EQ(KeyCheck(zero).size(), 8u);
  EXPECT_EQ(KeyCheck(zero).find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_NE(KeyCheck(zero), KeyCheck(one));
}

}  // namespace
}  // namespace poste::crypto
