#pragma once
// Authenticated encryption of secrets at rest (SMTP passwords, API keys, OAuth tokens) with AES-256-GCM,
// under named keys so that keys can be rotated: each sealed value records the id of the key that sealed it.
//
// Sealed format (ASCII, safe in a TEXT column): "v1:<key_id>:<base64url(nonce[12] | ciphertext | tag[16])>".
// The nonce is random per Seal; with 96-bit random nonces a key stays safe for far more than 2^32 seals,
// which no Poste installation approaches. The version, the key id and the caller's associated data are all
// authenticated, so none can be edited without Open failing.
//
// A SecretBox is immutable after construction: share one between threads freely.
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

namespace poste::crypto {

using SecretKey = std::array<uint8_t, 32>;

// Secrets are small; the cap keeps Open from decoding and decrypting megabytes from a hostile row.
inline constexpr std::size_t kMaxSecretBytes = std::size_t{64} * 1024;

// A fresh random key.
SecretKey GenerateSecretKey();

// A short public fingerprint of a key (8 hex characters of an HMAC under the key), used as its default key
// id and as a check value: a server started with the wrong master key finds ids in the database that
// match none of its keys, and says so at start-up instead of failing on each secret later. It reveals
// nothing useful about the key.
std::string KeyCheck(const SecretKey& key);

class SecretBox {
 public:
  // Key ids are 1-64 characters of [A-Za-z0-9_-]. Throws CryptoError when keys is empty, an id is invalid,
  // or current_key_id is not among the keys.
  SecretBox(std::map<std::string, SecretKey> keys, std::string current_key_id);
  // The usual construction: ids are KeyCheck(key); `current` seals, `previous` keys only open.
  static SecretBox FromKeys(const SecretKey& current, std::span<const SecretKey> previous = {});

  // `associated_data` binds the value to where it is stored (e.g. "site:3:smtp.password"): opening it with
  // other associated data fails, so a secret copied into another row or site is useless there. Throws
  // CryptoError when plaintext exceeds kMaxSecretBytes.
  std::string Seal(std::string_view plaintext, std::string_view associated_data = {}) const;
  // Throws CryptoError when `sealed` is malformed, names a key that is not loaded, or fails authentication
  // (tampered, wrong key, other associated data).
  std::string Open(std::string_view sealed, std::string_view associated_data = {}) const;

  // The key id recorded in a sealed value; throws CryptoError when it is not in the v1 format.
  static std::string KeyIdOf(std::string_view sealed);
  // True when `sealed` is under another key than the current one: key rotation re-seals these.
  bool NeedsReseal(std::string_view sealed) const { return KeyIdOf(sealed) != current_key_id_; }
  bool HasKey(std::string_view key_id) const { return keys_.find(std::string(key_id)) != keys_.end(); }
  const std::string& current_key_id() const { return current_key_id_; }

 private:
  std::map<std::string, SecretKey> keys_;
  std::string current_key_id_;
};

}  // namespace poste::crypto
