#pragma once
// The error thrown by poste::crypto when an operation cannot be done safely: a tampered or malformed
// ciphertext, an unknown key id, an unusable key file, a library failure. Messages never contain key
// material or plaintext, so they may be logged; they are not meant for clients (an escaped CryptoError
// becomes a generic 500 at the edge).
#include <stdexcept>
#include <string>

namespace poste::crypto {

class CryptoError : public std::runtime_error {
 public:
  explicit CryptoError(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace poste::crypto
