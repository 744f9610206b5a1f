#pragma once
// Where the master key comes from: POSTE_MASTER_KEY (base64 of 32 bytes) or a key file that the first run
// creates. The file holds the same base64 text plus a newline, so its content can be moved into the
// environment variable (or backed up by copying a line) without conversion.
//
// Errors are CryptoError with a message fit for the start-up log: what is wrong and how to fix it, never
// the key itself.
#include <filesystem>
#include <string>
#include <string_view>

#include "lib/crypto/secret_box.hpp"

namespace poste::crypto {

// Decodes a base64 (standard alphabet, padded) key of exactly 32 bytes; surrounding whitespace is ignored.
// Refuses invalid base64, any other length, and an all-zero key (a placeholder, not a key).
SecretKey ParseMasterKey(std::string_view base64);

// The text ParseMasterKey reads back: 44 base64 characters.
std::string FormatMasterKey(const SecretKey& key);

struct KeyFile {
  SecretKey key;
  bool created = false;  // true on first run: the caller should tell the admin to back the file up
};

// Reads the key file at `path`, or creates it with a new random key when it does not exist. Creation is
// atomic and never clobbers: the key is written to a 0600 temporary file (O_CREAT|O_EXCL), fsynced, then
// hard-linked into place, so a crash leaves either no key file or a complete one, and of two processes
// starting together one creates and the other reads. The parent directory must exist.
//
// Refuses a path that is not a regular file, a file that group or others may access (a key others can read
// protects nothing), and content that is not a valid key.
KeyFile LoadOrCreateKeyFile(const std::filesystem::path& path);

}  // namespace poste::crypto
