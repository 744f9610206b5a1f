#include "lib/crypto/encoding.hpp"

#include <array>

namespace poste::crypto {

namespace {

constexpr std::string_view kBase64Std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kBase64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr uint8_t kInvalid = 0xff;

using DecodeTable = std::array<uint8_t, 256>;

constexpr DecodeTable MakeTable(std::string_view alphabet, bool fold_case) {
  DecodeTable table{};
  for (auto& v : table) v = kInvalid;
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    auto c = static_cast<unsigned char>(alphabet[i]);
    table[c] = static_cast<uint8_t>(i);
    if (fold_case && c >= 'A' && c <= 'Z') table[c - 'A' + 'a'] = static_cast<uint8_t>(i);
  }
  return table;
}

constexpr DecodeTable kStdTable = MakeTable(kBase64Std, false);
constexpr DecodeTable kUrlTable = MakeTable(kBase64Url, false);
constexpr DecodeTable kBase32Table = MakeTable(kBase32, true);

// Encodes with `bits` bits per character (6 for base64, 5 for base32), padding with '=' up to a multiple
// of `pad_block` characters when pad_block is non-zero.
std::string Encode(std::string_view data, std::string_view alphabet, int bits, std::size_t pad_block) {
  std::string out;
  out.reserve((data.size() * 8 + bits - 1) / bits + pad_block);
  const uint32_t mask = (1u << bits) - 1;
  uint32_t acc = 0;
  int nbits = 0;
  for (unsigned char byte : data) {
    acc = (acc << 8) | byte;
    nbits += 8;
    while (nbits >= bits) {
      nbits -= bits;
      out.push_back(alphabet[(acc >> nbits) & mask]);
    }
    acc &= (1u << nbits) - 1;
  }
  if (nbits > 0) out.push_back(alphabet[(acc << (bits - nbits)) & mask]);
  if (pad_block != 0) {
    while (out.size() % pad_block != 0) out.push_back('=');
  }
  return out;
}

// Decodes unpadded text. A leftover of a whole character's worth of bits means an impossible length
// (e.g. 4n+1 base64 characters); leftover bits that are not zero mean a non-canonical encoding.
std::optional<std::string> Decode(std::string_view text, const DecodeTable& table, int bits) {
  std::string out;
  out.reserve(text.size() * bits / 8);
  uint32_t acc = 0;
  int nbits = 0;
  for (char c : text) {
    uint8_t v = table[static_cast<unsigned char>(c)];
    if (v == kInvalid) return std::nullopt;
    acc = (acc << bits) | v;
    nbits += bits;
    if (nbits >= 8) {
      nbits -= 8;
      out.push_back(static_cast<char>((acc >> nbits) & 0xff));
      acc &= (1u << nbits) - 1;
    }
  }
  if (nbits >= bits || acc != 0) return std::nullopt;
  return out;
}

// Splits off trailing '=' and checks there are exactly as many as the unpadded length calls for.
std::optional<std::string_view> StripPadding(std::string_view text, std::size_t block) {
  std::size_t pad = 0;
  while (pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
  std::string_view body = text.substr(0, text.size() - pad);
  if (pad == 0) return body;
  std::size_t expected = (block - body.size() % block) % block;
  if (pad != expected) return std::nullopt;
  return body;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string Base64Encode(std::string_view data) { return Encode(data, kBase64Std, 6, 4); }

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  auto body = StripPadding(text, 4);
  if (!body) return std::nullopt;
  return Decode(*body, kStdTable, 6);
}

std::string Base64UrlEncode(std::string_view data) { return Encode(data, kBase64Url, 6, 0); }

std::optional<std::string> Base64UrlDecode(std::string_view text) { return Decode(text, kUrlTable, 6); }

std::string HexEncode(std::string_view data) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(data.size() * 2, '0');
  for (std::size_t i = 0; i < data.size(); ++i) {
    auto byte = static_cast<unsigned char>(data[i]);
    out[2 * i] = kHex[byte >> 4];
    out[2 * i + 1] = kHex[byte & 0xf];
  }
  return out;
}

std::optional<std::string> HexDecode(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out(text.size() / 2, '\0');
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = HexValue(text[2 * i]), lo = HexValue(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string Base32Encode(std::string_view data) { return Encode(data, kBase32, 5, 0); }

std::optional<std::string> Base32Decode(std::string_view text) {
  auto body = StripPadding(text, 8);
  if (!body) return std::nullopt;
  return Decode(*body, kBase32Table, 5);
}

}  // namespace poste::crypto
