#include "lib/crypto/password.hpp"

#include <gtest/gtest.h>

#include <sodium.h>
#include <ctime>

#include <algorithm>
#include <chrono>
#include <functional>
#include <vector>

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/random.hpp"

namespace poste::crypto {
namespace {

// The cheapest parameters argon2id allows, so that tests stay fast; the format and logic are the same.
constexpr PasswordParams kFast{1, std::size_t{8} * 1024};

TEST(Password, HashesAndVerifies) {
  std::string hash = HashPassword("correct horse battery staple", kFast);
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$")) << hash;
  EXPECT_TRUE(VerifyPassword(hash, "correct horse battery staple"));
  EXPECT_FALSE(VerifyPassword(hash, "correct horse battery stapl"));
  EXPECT_FALSE(VerifyPassword(hash, "correct horse battery staple "));
  EXPECT_FALSE(VerifyPassword(hash, ""));
  EXPECT_NE(HashPassword("correct horse battery staple", kFast), hash);  // a fresh salt each time
}

TEST(Password, HandlesEmptyUnicodeAndNulBytes) {
  EXPECT_TRUE(VerifyPassword(HashPassword("", kFast), ""));
  std::string unicode = "p\xc3\xa4ssw\xc3\xb6rd \xf0\x9f\x94\x91";
  EXPECT_TRUE(VerifyPassword(HashPassword(unicode, kFast), unicode));
  // The whole byte string counts, not a C string cut at the first NUL.
  std::string with_nul("abc\0def", 7);
  std::string hash = HashPassword(with_nul, kFast);
  EXPECT_TRUE(VerifyPassword(hash, with_nul));
  EXPECT_FALSE(VerifyPassword(hash, "abc"));
}

TEST(Password, RefusesOverlongPasswords) {
  std::string longest(kMaxPasswordBytes, 'a');
  EXPECT_TRUE(VerifyPassword(HashPassword(longest, kFast), longest));
  std::string too_long(kMaxPasswordBytes + 1, 'a');
  EXPECT_THROW(HashPassword(too_long, kFast), CryptoError);
  EXPECT_FALSE(VerifyPassword(HashPassword("a", kFast), too_long));
  EXPECT_FALSE(VerifyPassword(HashPassword("a", kFast), std::string(std::size_t{10} << 20, 'a')));
}

TEST(Password, RefusesParametersOutOfBounds) {
  EXPECT_THROW(HashPassword("pw", {0, kFast.mem_limit}), CryptoError);
  EXPECT_THROW(HashPassword("pw", {kMaxOpsLimit + 1, kFast.mem_limit}), CryptoError);
  EXPECT_THROW(HashPassword("pw", {1, 1024}), CryptoError);
  EXPECT_THROW(HashPassword("pw", {1, kMaxMemLimit + 1}), CryptoError);
}

TEST(Password, MalformedOrHostileStoredHashesAreFalseNeverThrow) {
  std::string good = HashPassword("pw", kFast);
  std::string flipped = good;
  flipped[flipped.size() - 2] = flipped[flipped.size() - 2] == 'A' ? 'B' : 'A';
  const std::string hostile[] = {
      "",
      "garbage",
      "$argon2id$",
      good.substr(0, good.size() - 5),  // truncated
      good + "AAAA",                    // extended
      flipped,                          // digest altered
      good.substr(0, 10) + std::string("\0", 1) + good.substr(11),
      good + std::string(200, 'A'),                                    // longer than libsodium's buffer
      "$2b$10$N9qo8uLOickgzjZMbZ2ZLO6Qm7yQ3tP3YyEZ7rB2y2bW5fFfFbM3a",  // bcrypt
      "$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHQ$aGFzaA",       // 93 TiB of memory
      "$argon2id$v=19$m=18446744073709551615,t=1,p=1$c29tZXNhbHQ$aGFzaA",
      "$argon2id$v=19$m=99999999999999999999999,t=1,p=1$c29tZXNhbHQ$aGFzaA",  // overflows 64 bits
      "$argon2id$v=19$m=65536,t=100000,p=1$c29tZXNhbHQ$aGFzaA",               // a hundred thousand passes
      "$argon2id$v=19$m=65536,t=2,p=0$c29tZXNhbHQ$aGFzaA",
      "$argon2id$v=19$m=65536,t=2,p=255$c29tZXNhbHQ$aGFzaA",
      "$argon2id$v=19$m=-1,t=2,p=1$c29tZXNhbHQ$aGFzaA",
      "$argon2id$v=19$t=2,m=65536,p=1$c29tZXNhbHQ$aGFzaA",
  };
  for (const auto& hash : hostile) {
    EXPECT_FALSE(VerifyPassword(hash, "pw")) << hash;
  }
  // NeedsRehash reads parameters only: anything it cannot read is due for a new hash.
  for (const char* hash :
       {"", "garbage", "$argon2id$", "$2b$10$N9qo8uLOickgzjZMbZ2ZLO6Qm7yQ3tP3YyEZ7rB2y2bW5fFfFbM3a"}) {
    EXPECT_TRUE(NeedsRehash(hash, kFast)) << hash;
  }
  EXPECT_TRUE(NeedsRehash(good + std::string(200, 'A'), kFast));
}

TEST(Password, NeedsRehashWhenParametersOrAlgorithmChange) {
  std::string hash = HashPassword("pw", kFast);
  EXPECT_FALSE(NeedsRehash(hash, kFast));
  EXPECT_TRUE(NeedsRehash(hash, {2, kFast.mem_limit}));
  EXPECT_TRUE(NeedsRehash(hash, {1, std::size_t{16} * 1024}));
  EXPECT_TRUE(NeedsRehash(hash));  // the defaults are stronger

  // An argon2i hash still verifies but is upgraded to argon2id.
  EnsureSodium();
  char argon2i[crypto_pwhash_STRBYTES];
  ASSERT_EQ(crypto_pwhash_str_alg(argon2i, "pw", 2, 3, kFast.mem_limit, crypto_pwhash_ALG_ARGON2I13), 0);
  EXPECT_TRUE(VerifyPassword(argon2i, "pw"));
  EXPECT_TRUE(NeedsRehash(argon2i, {3, kFast.mem_limit}));
}

TEST(Password, DefaultParametersWork) {
  std::string hash = HashPassword("a real password");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << hash;
  EXPECT_TRUE(VerifyPassword(hash, "a real password"));
  EXPECT_FALSE(NeedsRehash(hash));
}

// The calling thread's CPU time, not the wall clock: Argon2 runs on this thread (parallelism 1), and CPU time
// does not grow when other processes take the cores (a loaded CI machine made wall-clock medians flaky).
double ThreadCpuMs() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double MedianMs(const std::function<void()>& fn) {
  std::vector<double> ms;
  for (int i = 0; i < 5; ++i) {
    const double start = ThreadCpuMs();
    fn();
    ms.push_back(ThreadCpuMs() - start);
  }
  std::sort(ms.begin(), ms.end());
  return ms[2];
}

TEST(Password, BurnCostsAboutWhatAVerifyCosts) {
  const PasswordParams params{1, std::size_t{4} << 20};  // enough work that timing is not noise
  std::string hash = HashPassword("right", params);
  BurnPasswordVerify("warm-up", params);  // the first burn makes the dummy hash
  double verify = MedianMs([&] { EXPECT_FALSE(VerifyPassword(hash, "wrong")); });
  double burn = MedianMs([&] { BurnPasswordVerify("wrong", params); });
  // Loose bounds: shared CI cores are noisy, but a burn that skipped the hash would be ~1000x faster.
  EXPECT_GT(burn, verify * 0.3) << "burn " << burn << " ms, verify " << verify << " ms";
  EXPECT_LT(burn, verify * 3.0) << "burn " << burn << " ms, verify " << verify << " ms";
  EXPECT_THROW(BurnPasswordVerify("pw", {0, 0}), CryptoError);
}

}  // namespace
}  // namespace poste::crypto
