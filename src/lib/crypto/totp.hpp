#pragma once
// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) with HMAC-SHA1, as every authenticator app
// implements them, plus the otpauth:// provisioning URI and recovery codes for a second factor.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poste::crypto {

struct TotpOptions {
  int digits = 6;         // 6 to 8
  int64_t period_s = 30;  // the time step
};

// 20 random bytes (160 bits), the secret length RFC 4226 recommends.
std::string GenerateTotpSecret();

// The step that unix_time falls in: floor(unix_time / period).
int64_t TotpStep(int64_t unix_time, const TotpOptions& options = {});

// The code for unix_time, zero-padded to options.digits. Throws CryptoError on an empty secret, a negative
// time, or options out of range.
std::string Totp(std::string_view secret, int64_t unix_time, const TotpOptions& options = {});

// Checks `code` against the steps from window before to window after now's step, all of them, in constant
// time. Returns the matched step, or nullopt. A code stays valid for its whole step (and the window), so
// the caller must refuse replays: store the last accepted step per user and accept only a greater one.
std::optional<int64_t> VerifyTotp(std::string_view secret, std::string_view code, int64_t now_s, int window = 1,
                                  const TotpOptions& options = {});

// otpauth://totp/<issuer>:<account>?secret=<BASE32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30, with
// issuer and account percent-encoded; the URI an authenticator app reads from a QR code. Throws
// CryptoError when issuer or account is empty or contains ':', which the label format cannot carry.
std::string ProvisioningUri(std::string_view issuer, std::string_view account, std::string_view secret,
                            const TotpOptions& options = {});

// Single-use codes for when the authenticator is lost: `count` codes like "7kq3-x9mf", 8 characters from an
// alphabet without look-alikes (no 0/o, 1/l/i), about 40 bits each. Store only Sha256 of the normalised code.
std::vector<std::string> GenerateRecoveryCodes(std::size_t count = 10);

// What a user typed, reduced to the form to hash and compare: lower case, without '-' or spaces. nullopt
// when it cannot be a recovery code.
std::optional<std::string> NormalizeRecoveryCode(std::string_view input);

}  // namespace poste::crypto
