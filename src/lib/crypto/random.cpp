#include "lib/crypto/random.hpp"

#include <sodium.h>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/encoding.hpp"

namespace poste::crypto {

void EnsureSodium() {
  // sodium_init() is itself safe to call repeatedly; the static just makes the common case a load.
  static const bool ready = sodium_init() >= 0;
  if (!ready) throw CryptoError("libsodium failed to initialise");
}

std::string RandomBytes(std::size_t n) {
  EnsureSodium();
  std::string out(n, '\0');
  if (n != 0) randombytes_buf(out.data(), n);
  return out;
}

void RandomFill(std::span<uint8_t> out) {
  EnsureSodium();
  if (!out.empty()) randombytes_buf(out.data(), out.size());
}

std::string RandomToken(std::size_t bytes) { return Base64UrlEncode(RandomBytes(bytes)); }

uint32_t RandomUniform(uint32_t upper_bound) {
  if (upper_bound == 0) throw CryptoError("RandomUniform: upper bound must be positive");
  EnsureSodium();
  return randombytes_uniform(upper_bound);
}

}  // namespace poste::crypto
