#include "lib/crypto/totp.hpp"

#include "lib/crypto/crypto_error.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/crypto/random.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::crypto {

namespace {

constexpr int kMaxWindow = 10;
constexpr std::string_view kRecoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";
constexpr std::size_t kRecoveryLength = 8;

void CheckOptions(const TotpOptions& options) {
  if (options.digits < 6 || options.digits > 8) throw CryptoError("TOTP: digits must be 6, 7 or 8");
  if (options.period_s <= 0) throw CryptoError("TOTP: period must be positive");
}

// RFC 4226 §5.3: HMAC of the big-endian counter, dynamic truncation, then the low decimal digits.
std::string Hotp(std::string_view secret, uint64_t counter, int digits) {
  char message[8];
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<char>(counter & 0xff);
    counter >>= 8;
  }
  std::string mac = HmacSha1(secret, std::string_view(message, sizeof message));
  const auto byte = [&](std::size_t i) { return static_cast<uint32_t>(static_cast<unsigned char>(mac[i])); };
  std::size_t offset = byte(mac.size() - 1) & 0x0f;
  uint32_t binary =
      ((byte(offset) & 0x7f) << 24) | (byte(offset + 1) << 16) | (byte(offset + 2) << 8) | byte(offset + 3);
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<std::size_t>(digits) - code.size(), '0') + code;
}

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

// RFC 3986 percent-encoding of everything but unreserved characters (so a space is %20, never '+').
std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    if (IsUnreserved(c)) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xf]);
    }
  }
  return out;
}

}  // namespace

std::string GenerateTotpSecret() { return RandomBytes(20); }

int64_t TotpStep(int64_t unix_time, const TotpOptions& options) {
  CheckOptions(options);
  int64_t step = unix_time / options.period_s;
  if (unix_time % options.period_s < 0) --step;  // floor, not truncation, for times before 1970
  return step;
}

std::string Totp(std::string_view secret, int64_t unix_time, const TotpOptions& options) {
  CheckOptions(options);
  if (secret.empty()) throw CryptoError("TOTP: empty secret");
  if (unix_time < 0) throw CryptoError("TOTP: time before 1970");
  return Hotp(secret, static_cast<uint64_t>(TotpStep(unix_time, options)), options.digits);
}

std::optional<int64_t> VerifyTotp(std::string_view secret, std::string_view code, int64_t now_s, int window,
                                  const TotpOptions& options) {
  CheckOptions(options);
  if (window < 0 || window > kMaxWindow) throw CryptoError("TOTP: window must be between 0 and 10");
  if (secret.empty() || code.size() != static_cast<std::size_t>(options.digits)) return std::nullopt;
  for (char c : code) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const int64_t now_step = TotpStep(now_s, options);
  std::optional<int64_t> matched;
  // Every step in the window is computed and compared, so the time taken does not say which one matched.
  for (int64_t step = now_step - window; step <= now_step + window; ++step) {
    if (step < 0) continue;
    bool equal = ConstantTimeEquals(Hotp(secret, static_cast<uint64_t>(step), options.digits), code);
    if (equal) matched = step;  // the latest step wins, which is the safer value to record against replays
  }
  return matched;
}

std::string ProvisioningUri(std::string_view issuer, std::string_view account, std::string_view secret,
                            const TotpOptions& options) {
  CheckOptions(options);
  if (issuer.empty() || account.empty()) throw CryptoError("TOTP URI: issuer and account must not be empty");
  if (issuer.find(':') != std::string_view::npos || account.find(':') != std::string_view::npos) {
    throw CryptoError("TOTP URI: issuer and account must not contain ':'");
  }
  if (secret.empty()) throw CryptoError("TOTP URI: empty secret");
  std::string uri = "otpauth://totp/";
  uri += PercentEncode(issuer) + ":" + PercentEncode(account);
  uri += "?secret=" + Base32Encode(secret);
  uri += "&issuer=" + PercentEncode(issuer);
  uri += "&algorithm=SHA1&digits=" + std::to_string(options.digits);
  uri += "&period=" + std::to_string(options.period_s);
  return uri;
}

std::vector<std::string> GenerateRecoveryCodes(std::size_t count) {
  std::vector<std::string> codes;
  codes.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::string code;
    for (std::size_t j = 0; j < kRecoveryLength; ++j) {
      if (j == kRecoveryLength / 2) code.push_back('-');
      code.push_back(kRecoveryAlphabet[RandomUniform(static_cast<uint32_t>(kRecoveryAlphabet.size()))]);
    }
    codes.push_back(std::move(code));
  }
  return codes;
}

std::optional<std::string> NormalizeRecoveryCode(std::string_view input) {
  if (input.size() > 4 * kRecoveryLength) return std::nullopt;
  std::string out;
  for (char c : input) {
    if (c == '-' || c == ' ') continue;
    c = validate::ascii::ToLower(c);
    if (kRecoveryAlphabet.find(c) == std::string_view::npos) return std::nullopt;
    out.push_back(c);
  }
  if (out.size() != kRecoveryLength) return std::nullopt;
  return out;
}

}  // namespace poste::crypto
