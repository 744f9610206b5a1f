#include "lib/crypto/secret_box.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/crypto/random.hpp"

namespace poste::crypto {

namespace {

constexpr std::string_view kVersion = "v1";
constexpr std::size_t kNonceSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kMaxKeyIdSize = 64;

struct CipherCtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxFree>;

bool IsValidKeyId(std::string_view id) {
  if (id.empty() || id.size() > kMaxKeyIdSize) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// What GCM authenticates besides the ciphertext. The key id has no NUL, so the boundary between it and the
// caller's data is unambiguous.
std::string FullAssociatedData(std::string_view key_id, std::string_view associated_data) {
  std::string aad = "poste.secretbox.";
  aad.append(kVersion).push_back('\0');
  aad.append(key_id).push_back('\0');
  aad.append(associated_data);
  return aad;
}

const unsigned char* Bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

struct Parsed {
  std::string_view key_id;
  std::string payload;  // nonce | ciphertext | tag
};

Parsed Parse(std::string_view sealed) {
  const auto malformed = [] { return CryptoError("sealed secret is not in the v1 format"); };
  if (sealed.size() > 2 * kMaxSecretBytes) throw malformed();
  if (!sealed.starts_with(kVersion) || sealed.size() <= kVersion.size() || sealed[kVersion.size()] != ':') {
    throw malformed();
  }
  sealed.remove_prefix(kVersion.size() + 1);
  auto colon = sealed.find(':');
  if (colon == std::string_view::npos || !IsValidKeyId(sealed.substr(0, colon))) throw malformed();
  Parsed parsed{sealed.substr(0, colon), {}};
  auto payload = Base64UrlDecode(sealed.substr(colon + 1));
  if (!payload || payload->size() < kNonceSize + kTagSize) throw malformed();
  parsed.payload = std::move(*payload);
  return parsed;
}

}  // namespace

SecretKey GenerateSecretKey() {
  SecretKey key;
  RandomFill(key);
  return key;
}

std::string KeyCheck(const SecretKey& key) {
  return HexEncode(HmacSha256(AsStringView(key), "poste.key-check.v1").substr(0, 4));
}

SecretBox::SecretBox(std::map<std::string, SecretKey> keys, std::string current_key_id)
    : keys_(std::move(keys)), current_key_id_(std::move(current_key_id)) {
  if (keys_.empty()) throw CryptoError("secret box: no keys");
  for (const auto& [id, key] : keys_) {
    if (!IsValidKeyId(id)) throw CryptoError("secret box: invalid key id (1-64 characters of A-Z a-z 0-9 _ -)");
  }
  if (!keys_.contains(current_key_id_)) throw CryptoError("secret box: the current key id is not among the keys");
}

SecretBox SecretBox::FromKeys(const SecretKey& current, std::span<const SecretKey> previous) {
  std::map<std::string, SecretKey> keys;
  for (const auto& key : previous) keys.emplace(KeyCheck(key), key);
  std::string current_id = KeyCheck(current);
  keys[current_id] = current;
  return SecretBox(std::move(keys), std::move(current_id));
}

std::string SecretBox::Seal(std::string_view plaintext, std::string_view associated_data) const {
  if (plaintext.size() > kMaxSecretBytes) throw CryptoError("secret box: secret is larger than 64 KiB");
  const SecretKey& key = keys_.at(current_key_id_);
  std::string payload(kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(payload.data());
  RandomFill(std::span<uint8_t>(nonce, kNonceSize));
  std::string aad = FullAssociatedData(current_key_id_, associated_data);

  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int aad_len = 0, len = 0, final_len = 0;
  unsigned char* out = nonce + kNonceSize;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &aad_len, Bytes(aad), static_cast<int>(aad.size())) != 1 ||
      // An empty update is skipped: a null input means "finish" to some OpenSSL cipher implementations.
      (!plaintext.empty() &&
       EVP_EncryptUpdate(ctx.get(), out, &len, Bytes(plaintext), static_cast<int>(plaintext.size())) != 1) ||
      EVP_EncryptFinal_ex(ctx.get(), out + len, &final_len) != 1 ||
      static_cast<std::size_t>(len) + static_cast<std::size_t>(final_len) != plaintext.size() ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, out + plaintext.size()) != 1) {
    throw CryptoError("secret box: AES-256-GCM encryption failed");
  }
  std::string sealed(kVersion);
  sealed.append(":").append(current_key_id_).append(":").append(Base64UrlEncode(payload));
  return sealed;
}

std::string SecretBox::Open(std::string_view sealed, std::string_view associated_data) const {
  Parsed parsed = Parse(sealed);
  auto it = keys_.find(std::string(parsed.key_id));
  if (it == keys_.end()) {
    throw CryptoError("secret box: sealed under key '" + std::string(parsed.key_id) + "', which is not loaded");
  }
  std::string_view payload = parsed.payload;
  std::string_view nonce = payload.substr(0, kNonceSize);
  std::string_view ciphertext = payload.substr(kNonceSize, payload.size() - kNonceSize - kTagSize);
  std::string tag(payload.substr(payload.size() - kTagSize));
  std::string aad = FullAssociatedData(parsed.key_id, associated_data);

  std::string plaintext(ciphertext.size(), '\0');
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int aad_len = 0, len = 0, final_len = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, it->second.data(), Bytes(nonce)) == 1 &&
            EVP_DecryptUpdate(ctx.get(), nullptr, &aad_len, Bytes(aad), static_cast<int>(aad.size())) == 1 &&
            (ciphertext.empty() ||
             EVP_DecryptUpdate(ctx.get(), out, &len, Bytes(ciphertext), static_cast<int>(ciphertext.size())) == 1) &&
            EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) == 1 &&
            EVP_DecryptFinal_ex(ctx.get(), out + len, &final_len) == 1;
  if (!ok) {
    // GCM writes plaintext before it checks the tag; do not leave unauthenticated bytes lying in memory.
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    throw CryptoError("secret box: authentication failed (wrong key, tampered data, or sealed for another record)");
  }
  return plaintext;
}

std::string SecretBox::KeyIdOf(std::string_view sealed) { return std::string(Parse(sealed).key_id); }

}  // namespace poste::crypto
