#include "modules/mail/unsubscribe_token.hpp"

#include <gtest/gtest.h>

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"

namespace poste::mail {
namespace {

constexpr std::string_view kKey = "0123456789abcdef0123456789abcdef";

TEST(UnsubscribeToken, RoundTripsItsClaims) {
  const UnsubscribeClaims with_campaign{12, "Ada.L@example.com", 345};
  const auto token = SignUnsubscribeToken(kKey, with_campaign);
  EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  EXPECT_EQ(VerifyUnsubscribeToken(kKey, token), with_campaign);
  const UnsubscribeClaims without{1, "a@xn--bcher-kva.example", std::nullopt};
  EXPECT_EQ(VerifyUnsubscribeToken(kKey, SignUnsubscribeToken(kKey, without)), without);
  // One token per recipient and campaign.
  EXPECT_NE(SignUnsubscribeToken(kKey, without), SignUnsubscribeToken(kKey, {1, "a@xn--bcher-kva.example", 1}));
  EXPECT_NE(SignUnsubscribeToken(kKey, without), SignUnsubscribeToken(kKey, {2, "a@xn--bcher-kva.example", {}}));
  // Short enough for a header line: the longest address fits under the List-Unsubscribe limit.
  const UnsubscribeClaims longest{9'000'000'000'000'000'000, std::string(64, 'l') + "@" + std::string(189, 'd'), 1};
  const auto big = SignUnsubscribeToken(kKey, longest);
  EXPECT_LE(big.size(), kMaxUnsubscribeTokenChars);
  EXPECT_EQ(VerifyUnsubscribeToken(kKey, big), longest);
}

TEST(UnsubscribeToken, RefusesEveryAlteredToken) {
  const auto token = SignUnsubscribeToken(kKey, {7, "ada@example.com", 3});
  // Every single character changed (to another of the alphabet) breaks it.
  for (std::size_t i = 0; i < token.size(); ++i) {
    std::string altered = token;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(VerifyUnsubscribeToken(kKey, altered)) << "position " << i;
  }
  EXPECT_FALSE(VerifyUnsubscribeToken("another key of the same length!!", token));
  for (std::size_t cut : {std::size_t{1}, std::size_t{4}, token.size() / 2, token.size() - 1}) {
    EXPECT_FALSE(VerifyUnsubscribeToken(kKey, token.substr(0, token.size() - cut))) << cut;
  }
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, token + "A"));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, token + "="));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, token + "\r\n"));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, "\r\n" + token));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, ""));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, std::string(kMaxUnsubscribeTokenChars + 1, 'A')));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, "' OR 1=1 --"));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, "\xC3\x28\xFF"));
  // Another site's id with the rest (and the old signature) kept.
  auto bytes = *crypto::Base64UrlDecode(token);
  bytes[8] = static_cast<char>(bytes[8] ^ 1);
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, crypto::Base64UrlEncode(bytes)));
}

TEST(UnsubscribeToken, RefusesWellSignedNonsense) {
  // Signed with the right key but not something Sign would produce: the checks after the MAC still hold.
  const auto sign = [](std::string bytes) {
    bytes += crypto::HmacSha256(kKey, bytes).substr(0, 16);
    return crypto::Base64UrlEncode(bytes);
  };
  const auto header = [](unsigned char version, std::int64_t site, std::int64_t campaign) {
    std::string out(1, static_cast<char>(version));
    for (auto id : {site, campaign}) {
      for (int shift = 56; shift >= 0; shift -= 8)
        out += static_cast<char>((static_cast<std::uint64_t>(id) >> shift) & 0xFF);
    }
    return out;
  };
  EXPECT_TRUE(VerifyUnsubscribeToken(kKey, sign(header(1, 5, 0) + "a@example.com")));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, sign(header(2, 5, 0) + "a@example.com")));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, sign(header(1, 0, 0) + "a@example.com")));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, sign(header(1, -5, 0) + "a@example.com")));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, sign(header(1, 5, -1) + "a@example.com")));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, sign(header(1, 5, 0) + "a@example.com\r\nBcc: b@example.com")));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, sign(header(1, 5, 0) + "no-at-sign")));
  EXPECT_FALSE(VerifyUnsubscribeToken(kKey, sign(header(1, 5, 0))));
}

}  // namespace
}  // namespace poste::mail
