#pragma once
// Digests and MACs over OpenSSL 3 EVP, and constant-time comparison. Outputs are raw bytes; wrap them
// with HexEncode / Base64UrlEncode (encoding.hpp) to store or send them.
#include <cstddef>
#include <string>
#include <string_view>

namespace poste::crypto {

inline constexpr std::size_t kSha256Size = 32;
inline constexpr std::size_t kSha1Size = 20;

std::string Sha256(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);
// SHA-1 only because RFC 6238 TOTP and every authenticator app use it; HMAC-SHA1 remains sound as a MAC.
// Do not use it for anything new.
std::string HmacSha1(std::string_view key, std::string_view data);

// True when a and b hold the same bytes. The time taken depends on a.size() only, never on where the
// contents differ, and a length mismatch does not return early: pass the attacker-controlled value as b.
// Lengths themselves are not hidden (they rarely are secret: a MAC or token has a fixed, public size).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace poste::crypto
