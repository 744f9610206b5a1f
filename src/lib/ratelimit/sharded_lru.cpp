#include "lib/ratelimit/sharded_lru.hpp"

#include <sodium.h>

#include <stdexcept>

namespace poste::ratelimit::detail {

static_assert(crypto_shorthash_KEYBYTES == 16 && crypto_shorthash_BYTES == 8);
static_assert(kDigestKeySize == 1 + crypto_generichash_BYTES);

std::string_view StoredKey(std::string_view key, std::array<char, kDigestKeySize>& scratch) {
  if (key.size() <= kMaxRawKey && (key.empty() || key.front() != '\0')) return key;
  scratch[0] = '\0';
  crypto_generichash(reinterpret_cast<unsigned char*>(scratch.data() + 1), crypto_generichash_BYTES,
                     reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr, 0);
  return {scratch.data(), scratch.size()};
}

KeyHasher::KeyHasher() {
  // Idempotent and thread-safe; randombytes_buf needs it.
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  randombytes_buf(key_.data(), key_.size());
}

std::size_t KeyHasher::operator()(std::string_view key) const {
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(key.data()), key.size(), key_.data());
  std::size_t h = 0;
  for (int i = crypto_shorthash_BYTES - 1; i >= 0; --i) h = (h << 8) | out[i];
  return h;
}

}  // namespace poste::ratelimit::detail
