#include "lib/crypto/hash.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <sodium.h>

#include <memory>

#include "lib/crypto/crypto_error.hpp"

namespace poste::crypto {

namespace {

// Fetching an algorithm in OpenSSL 3 takes a lock and a lookup; token checks run on every request, so the
// HMAC implementation is fetched once and kept for the life of the process.
EVP_MAC* HmacAlgorithm() {
  static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) throw CryptoError("OpenSSL: HMAC is not available");
  return mac;
}

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};

std::string Hmac(const char* digest, std::size_t out_size, std::string_view key, std::string_view data) {
  std::unique_ptr<EVP_MAC_CTX, MacCtxFree> ctx(EVP_MAC_CTX_new(HmacAlgorithm()));
  if (!ctx) throw CryptoError("OpenSSL: cannot allocate an HMAC context");
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
      OSSL_PARAM_construct_end(),
  };
  // A null key pointer means "keep the previous key" to OpenSSL, so an empty key still gets a real pointer.
  static constexpr unsigned char kEmpty = 0;
  const auto* key_bytes = key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  std::string out(out_size, '\0');
  std::size_t written = 0;
  if (EVP_MAC_init(ctx.get(), key_bytes, key.size(), params) != 1 ||
      EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &written, out.size()) != 1 ||
      written != out_size) {
    throw CryptoError(std::string("OpenSSL: HMAC-") + digest + " failed");
  }
  return out;
}

}  // namespace

// SHA-256 and HMAC-SHA-256 with libsodium: they run at start-up (the master key check, the ETags of ready
// answers), and OpenSSL's first use loads its configuration and providers, ~2 MB of idle RSS (bench/RESULTS.md).
std::string Sha256(std::string_view data) {
  std::string out(kSha256Size, '\0');
  crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(data.data()),
                     data.size());
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string out(kSha256Size, '\0');
  crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

std::string HmacSha1(std::string_view key, std::string_view data) { return Hmac("SHA1", kSha1Size, key, data); }

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    // Same work as a full comparison of a, so the mismatch costs what a match of that length costs.
    (void)CRYPTO_memcmp(a.data(), a.data(), a.size());
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace poste::crypto
