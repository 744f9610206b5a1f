#pragma once
// Text encodings of binary data. Byte strings are std::string / std::string_view throughout poste::crypto.
//
// Decoders are strict and return nullopt rather than guess: no whitespace, no characters outside the
// alphabet, no impossible lengths, and no non-zero bits in the unused tail of the last character. The last
// rule makes every byte string have exactly one accepted encoding, so an attacker cannot produce a second,
// different-looking token (a JWT signature, an API key) that decodes to the same bytes.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace poste::crypto {

// RFC 4648 §4: standard alphabet, with '=' padding.
std::string Base64Encode(std::string_view data);
std::optional<std::string> Base64Decode(std::string_view text);

// RFC 4648 §5: URL- and filename-safe alphabet, without padding (as JWT and our tokens use it). Text that
// carries '=' is rejected.
std::string Base64UrlEncode(std::string_view data);
std::optional<std::string> Base64UrlDecode(std::string_view text);

// Lower-case hex. The decoder accepts either case.
std::string HexEncode(std::string_view data);
std::optional<std::string> HexDecode(std::string_view text);

// RFC 4648 §6 (A-Z, 2-7), as authenticator apps expect TOTP secrets. Encoding omits the '=' padding,
// which the otpauth URI format asks to leave out. Decoding accepts upper or lower case, with or without
// correct padding.
std::string Base32Encode(std::string_view data);
std::optional<std::string> Base32Decode(std::string_view text);

// Views fixed-size binary values (keys, digests) as the byte strings the functions above take.
inline std::string_view AsStringView(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace poste::crypto
