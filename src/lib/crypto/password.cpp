#include "lib/crypto/password.hpp"

#include <sodium.h>

#include <charconv>
#include <map>
#include <mutex>
#include <utility>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/random.hpp"

namespace poste::crypto {

static_assert(PasswordParams{}.ops_limit == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
static_assert(PasswordParams{}.mem_limit == crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
static_assert(kMinOpsLimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN);
static_assert(kMinMemLimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN);

namespace {

constexpr std::string_view kArgon2idPrefix = "$argon2id$";
constexpr std::string_view kArgon2iPrefix = "$argon2i$";

bool WithinBounds(uint64_t ops, uint64_t mem) {
  return ops >= kMinOpsLimit && ops <= kMaxOpsLimit && mem >= kMinMemLimit && mem <= kMaxMemLimit;
}

// Reads "<key>=<digits>" at the front of s and advances past it.
bool ReadParam(std::string_view& s, std::string_view key, uint64_t& value) {
  if (s.substr(0, key.size()) != key || s.size() <= key.size() || s[key.size()] != '=') return false;
  s.remove_prefix(key.size() + 1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return true;
}

// Checks that the cost a stored hash asks for ("$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$...") is within
// bounds, before libsodium allocates m KiB and runs t passes on behalf of a database row.
bool CostIsAcceptable(std::string_view hash) {
  if (hash.starts_with(kArgon2idPrefix)) {
    hash.remove_prefix(kArgon2idPrefix.size());
  } else if (hash.starts_with(kArgon2iPrefix)) {
    hash.remove_prefix(kArgon2iPrefix.size());
  } else {
    return false;
  }
  uint64_t version = 0, mem_kib = 0, ops = 0, lanes = 0;
  if (!ReadParam(hash, "v", version) || !hash.starts_with("$")) return false;
  hash.remove_prefix(1);
  if (!ReadParam(hash, "m", mem_kib) || !hash.starts_with(",")) return false;
  hash.remove_prefix(1);
  if (!ReadParam(hash, "t", ops) || !hash.starts_with(",")) return false;
  hash.remove_prefix(1);
  if (!ReadParam(hash, "p", lanes) || !hash.starts_with("$")) return false;
  if (mem_kib > kMaxMemLimit / 1024) return false;
  return WithinBounds(ops, mem_kib * 1024) && lanes >= 1 && lanes <= 16;
}

// libsodium reads hashes as C strings: refuse what would not fit its buffer or would be cut at a NUL.
bool FitsCString(std::string_view hash) {
  return !hash.empty() && hash.size() < crypto_pwhash_STRBYTES && hash.find('\0') == std::string_view::npos;
}

const char* PasswordData(std::string_view password) { return password.empty() ? "" : password.data(); }

}  // namespace

std::string HashPassword(std::string_view password, const PasswordParams& params) {
  if (password.size() > kMaxPasswordBytes) throw CryptoError("password is longer than the allowed maximum");
  if (!WithinBounds(params.ops_limit, params.mem_limit)) throw CryptoError("password hashing parameters out of range");
  EnsureSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, PasswordData(password), password.size(), params.ops_limit, params.mem_limit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    throw CryptoError("argon2id hashing failed (out of memory?)");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  if (password.size() > kMaxPasswordBytes || !FitsCString(hash) || !CostIsAcceptable(hash)) return false;
  try {
    EnsureSodium();
  } catch (const CryptoError&) {
    return false;
  }
  std::string terminated(hash);
  return crypto_pwhash_str_verify(terminated.c_str(), PasswordData(password), password.size()) == 0;
}

bool NeedsRehash(std::string_view hash, const PasswordParams& params) {
  if (!FitsCString(hash) || !hash.starts_with(kArgon2idPrefix)) return true;
  EnsureSodium();
  std::string terminated(hash);
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), params.ops_limit, params.mem_limit) != 0;
}

void BurnPasswordVerify(std::string_view password, const PasswordParams& params) {
  static std::mutex mutex;
  static std::map<std::pair<uint64_t, std::size_t>, std::string> dummies;
  const auto key = std::make_pair(params.ops_limit, params.mem_limit);
  std::string dummy;
  {
    std::lock_guard lock(mutex);
    if (auto it = dummies.find(key); it != dummies.end()) dummy = it->second;
  }
  if (dummy.empty()) {
    // A random password nobody knows, so the burn can never succeed; made outside the lock because it is
    // slow, and a rare duplicate on a first-login race is harmless.
    dummy = HashPassword(RandomToken(), params);
    std::lock_guard lock(mutex);
    dummies.emplace(key, dummy);
  }
  (void)VerifyPassword(dummy, password);
}

}  // namespace poste::crypto
