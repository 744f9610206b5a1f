#pragma once
// Cryptographically secure randomness from libsodium (getrandom(2) underneath), for keys, nonces, tokens
// and secrets. For identifiers that only need to be unique, lib/ids.hpp is cheaper.
#include <cstdint>
#include <span>
#include <string>

namespace poste::crypto {

// Initialises libsodium once per process; idempotent and thread-safe. Every poste::crypto function that
// needs libsodium calls it, so callers never have to. Throws CryptoError if libsodium cannot start.
void EnsureSodium();

// n random bytes.
std::string RandomBytes(std::size_t n);
void RandomFill(std::span<uint8_t> out);

// `bytes` random bytes, base64url without padding: 32 bytes (the default, 256 bits) give 43 characters.
// For refresh tokens, API keys, CSRF tokens, password-reset links.
std::string RandomToken(std::size_t bytes = 32);

// A uniformly distributed integer in [0, upper_bound), without modulo bias. upper_bound must be > 0.
uint32_t RandomUniform(uint32_t upper_bound);

}  // namespace poste::crypto
