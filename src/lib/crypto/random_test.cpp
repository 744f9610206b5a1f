#include "lib/crypto/random.hpp"

#include <gtest/gtest.h>

#include <array>
#include <set>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/encoding.hpp"

namespace poste::crypto {
namespace {

TEST(CryptoRandom, BytesAndTokens) {
  EXPECT_EQ(RandomBytes(0), "");
  EXPECT_EQ(RandomBytes(33).size(), 33u);
  std::string token = RandomToken();
  EXPECT_EQ(token.size(), 43u);  // 32 bytes, base64url without padding
  EXPECT_EQ(Base64UrlDecode(token).value().size(), 32u);
  EXPECT_EQ(RandomToken(16).size(), 22u);
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) seen.insert(RandomToken());
  EXPECT_EQ(seen.size(), 100u);
}

TEST(CryptoRandom, FillAndUniform) {
  std::array<uint8_t, 64> buf{};
  RandomFill(buf);
  int zeros = 0;
  for (auto b : buf) zeros += b == 0;
  EXPECT_LT(zeros, 10);  // 64 zero bytes would mean the fill did nothing; a few are expected by chance

  std::array<int, 7> counts{};
  for (int i = 0; i < 7000; ++i) {
    uint32_t v = RandomUniform(7);
    ASSERT_LT(v, 7u);
    ++counts[v];
  }
  for (int c : counts) EXPECT_GT(c, 700);  // expected 1000 each; 700 is > 9 standard deviations away
  EXPECT_EQ(RandomUniform(1), 0u);
  EXPECT_THROW(RandomUniform(0), CryptoError);
}

}  // namespace
}  // namespace poste::crypto
