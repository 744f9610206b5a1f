#pragma once
// Password hashing with argon2id (libsodium), in the PHC string format ("$argon2id$v=19$m=...,t=...,p=1$
// salt$hash"), which carries its own parameters: a stored hash keeps verifying after the defaults change,
// and NeedsRehash tells login when to upgrade it.
//
// Hashing and verifying are deliberately slow (tens of milliseconds) and memory-hard: call them on the
// blocking pool, never on an I/O thread. The pool's size bounds how much memory concurrent logins take
// (threads × mem_limit).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace poste::crypto {

// Longer passwords are refused: hashing cost hardly depends on length, but there is no reason to accept
// megabytes of "password" into a login request, and a cap makes the limit explicit and testable.
inline constexpr std::size_t kMaxPasswordBytes = 1024;

struct PasswordParams {
  // Defaults are libsodium's INTERACTIVE limits (2 passes over 64 MiB), the level it recommends for online
  // logins: about 60-100 ms on one server core, and above OWASP's argon2id floor (19 MiB, 2 passes). A
  // small server with a 4-thread blocking pool then peaks at 256 MiB during a login burst; lower mem_limit
  // (and raise ops_limit) on machines that cannot afford that.
  uint64_t ops_limit = 2;
  std::size_t mem_limit = std::size_t{64} << 20;  // bytes
};

// Bounds on parameters, for hashing and for what a stored hash may ask of Verify: a hash string from the
// database that claims 64 GiB or a thousand passes must not become a denial of service.
inline constexpr uint64_t kMinOpsLimit = 1;
inline constexpr uint64_t kMaxOpsLimit = 16;
inline constexpr std::size_t kMinMemLimit = std::size_t{8} * 1024;
inline constexpr std::size_t kMaxMemLimit = std::size_t{1} << 30;

// Throws CryptoError when the password is longer than kMaxPasswordBytes, when params are out of bounds,
// or when the memory cannot be allocated.
std::string HashPassword(std::string_view password, const PasswordParams& params = {});

// True only when `hash` is a well-formed argon2 hash of `password`. Never throws: a malformed, truncated or
// over-demanding stored hash, or an over-long password, is simply false.
bool VerifyPassword(std::string_view hash, std::string_view password);

// True when `hash` was made with other parameters or another algorithm than argon2id with `params` (or is
// not a valid hash): login then stores HashPassword(password) after a successful Verify.
bool NeedsRehash(std::string_view hash, const PasswordParams& params = {});

// Costs what VerifyPassword against a real hash made with `params` costs, and always fails. Login calls it
// when the email is unknown, so that "no such user" and "wrong password" take the same time. The dummy hash
// is made once per distinct params and cached.
void BurnPasswordVerify(std::string_view password, const PasswordParams& params = {});

}  // namespace poste::crypto
