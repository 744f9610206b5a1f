#include "lib/crypto/encoding.hpp"

#include <gtest/gtest.h>

#include "lib/crypto/random.hpp"

namespace poste::crypto {
namespace {

TEST(CryptoEncoding, Base64MatchesRfc4648Vectors) {
  // RFC 4648 §10.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    EXPECT_EQ(Base64Decode(encoded).value(), plain);
  }
}

TEST(CryptoEncoding, Base64UrlUsesUrlAlphabetWithoutPadding) {
  std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
  EXPECT_EQ(Base64UrlEncode("f"), "Zg");
  EXPECT_EQ(Base64UrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64UrlDecode("Zm8").value(), "fo");
  EXPECT_EQ(Base64UrlDecode("-_-_").value(), bytes);
  EXPECT_EQ(Base64UrlDecode("").value(), "");
}

TEST(CryptoEncoding, Base64RejectsMalformedInput) {
  for (const char* bad : {"Zg", "Zg=", "Zg===", "Z===", "====", "Zm9v\n", " Zm9v", "Zm9v YmFy", "Zm-v", "Zm_v",
                          "Zg==Zg==", "Z=g=", "Zm9vYg=", "Zh==", "Zm9=", "\xc3\xa9\xc3\xa9"}) {
    EXPECT_FALSE(Base64Decode(bad)) << bad;
  }
  EXPECT_FALSE(Base64Decode(std::string("Zm9v\0AAA", 8)));
}

TEST(CryptoEncoding, Base64UrlRejectsMalformedInput) {
  // Padding, the standard alphabet's + and /, impossible lengths (4n+1), non-zero unused bits.
  for (const char* bad : {"Zg==", "Zm8=", "+/+/", "Z", "Zm9vY", "Zh", "Zm9", "a b", "Zm9v.", "%41"}) {
    EXPECT_FALSE(Base64UrlDecode(bad)) << bad;
  }
}

TEST(CryptoEncoding, RoundTripsEveryLengthAndByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); n += 7) {
    std::string data = all.substr(0, n) + RandomBytes(n % 5);
    EXPECT_EQ(Base64Decode(Base64Encode(data)).value(), data);
    EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(data)).value(), data);
    EXPECT_EQ(HexDecode(HexEncode(data)).value(), data);
    EXPECT_EQ(Base32Decode(Base32Encode(data)).value(), data);
  }
}

TEST(CryptoEncoding, Hex) {
  EXPECT_EQ(HexEncode(std::string("\x00\x01\xab\xff", 4)), "0001abff");
  EXPECT_EQ(HexDecode("0001ABff").value(), std::string("\x00\x01\xab\xff", 4));
  EXPECT_EQ(HexDecode("").value(), "");
  EXPECT_FALSE(HexDecode("abc"));
  EXPECT_FALSE(HexDecode("zz"));
  EXPECT_FALSE(HexDecode("0x00"));
  EXPECT_FALSE(HexDecode(" 00"));
}

TEST(CryptoEncoding, Base32MatchesRfc4648Vectors) {
  // RFC 4648 §10, with the padding our encoder leaves out.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "MY======"},
      {"fo", "MZXQ===="},
      {"foo", "MZXW6==="},
      {"foob", "MZXW6YQ="},
      {"fooba", "MZXW6YTB"},
      {"foobar", "MZXW6YTBOI======"},
  };
  for (const auto& [plain, padded] : vectors) {
    std::string unpadded(padded);
    unpadded.erase(unpadded.find_last_not_of('=') + 1);
    EXPECT_EQ(Base32Encode(plain), unpadded);
    EXPECT_EQ(Base32Decode(padded).value(), plain) << padded;
    EXPECT_EQ(Base32Decode(unpadded).value(), plain) << unpadded;
  }
  // The RFC 6238 test secret, as authenticator apps show it; lower case is accepted.
  EXPECT_EQ(Base32Encode("12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  EXPECT_EQ(Base32Decode("gezdgnbvgy3tqojqgezdgnbvgy3tqojq").value(), "12345678901234567890");
}

TEST(CryptoEncoding, Base32RejectsMalformedInput) {
  // Wrong padding counts, impossible lengths (1, 3, 6 mod 8), digits 0/1/8/9, non-zero unused bits, spaces.
  for (const char* bad : {"MY=====", "MY=======", "MZXQ=", "========", "M", "MZX", "MZXW6Y", "MZXW6YTBO", "0A", "1A",
                          "8A", "MZ", "MZXW 6YTB", "MY======MY", "MZ======"}) {
    EXPECT_FALSE(Base32Decode(bad)) << bad;
  }
}

TEST(CryptoEncoding, LargeInputsStayLinear) {
  std::string big = RandomBytes(1 << 20);
  EXPECT_EQ(Base64UrlDecode(Base64UrlEncode(big)).value(), big);
  std::string garbage(1 << 20, '!');
  EXPECT_FALSE(Base64Decode(garbage));
  EXPECT_FALSE(Base32Decode(garbage));
}

}  // namespace
}  // namespace poste::crypto
