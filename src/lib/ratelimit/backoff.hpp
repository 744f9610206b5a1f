#pragma once
// Brute-force protection for logins: consecutive failures on one key (an account, an IP) lock it for a
// while, longer with each further failure. Behind an interface, like Limiter, so that several instances can
// later share the count through Redis or the database.
//
// How callers use it: before checking a password, refuse with 429 and Retry-After when LockedFor() > 0 (and
// do not check it); after checking, RecordFailure() or RecordSuccess(). Track the account and the client IP
// separately. A success should reset the account's key, but think twice before resetting the IP's: an
// attacker who owns one account could otherwise clear their IP's streak at will.
// Locking an account on failures lets anyone lock a victim out for a while; the cap on the lockout bounds
// that, and the per-IP key limits how many accounts one client can lock.
#include <cstdint>
#include <string_view>

namespace poste::ratelimit {

struct BackoffPolicy {
  int free_failures = 5;                   // failures in a row allowed before the first lockout
  std::int64_t first_lockout_ms = 60'000;  // the lockout at failure free_failures, doubling with each more
  std::int64_t max_lockout_ms = 3'600'000;
  // A streak is forgotten after this long without a failure, counted from the end of its lockout, so that
  // waiting out a lockout does not reset the count: the next failure locks for twice as long.
  std::int64_t forget_after_ms = 900'000;
};

// The lockout that `failures` consecutive failures earn: 0 below free_failures, first_lockout_ms at
// free_failures, doubling with each further failure up to max_lockout_ms.
std::int64_t LockoutAfter(const BackoffPolicy& policy, int failures);

class FailureTracker {
 public:
  virtual ~FailureTracker() = default;

  // Counts a failure at now_ms (monotonic ms) and returns the lockout now in force, in ms (0 if none).
  // A failure while the key is locked is not counted: the caller should not have checked it, and racing
  // requests must not stretch an honest user's lockout.
  virtual std::int64_t RecordFailure(std::string_view key, std::int64_t now_ms) = 0;
  // Forgets the key's streak.
  virtual void RecordSuccess(std::string_view key) = 0;
  // How long the key stays locked from now_ms, in ms; 0 when it is not locked.
  virtual std::int64_t LockedFor(std::string_view key, std::int64_t now_ms) = 0;
};

}  // namespace poste::ratelimit
