#include "modules/mail/unsubscribe_token.hpp"

#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"

namespace poste::mail {

namespace {

constexpr unsigned char kVersion = 1;
constexpr std::size_t kIdBytes = 8;
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kHeaderBytes = 1 + 2 * kIdBytes;
constexpr std::size_t kMinEmailBytes = 3;  // a@b

void PutId(std::string& out, std::int64_t id) {
  const auto u = static_cast<std::uint64_t>(id);
  for (int shift = 56; shift >= 0; shift -= 8) out += static_cast<char>((u >> shift) & 0xFF);
}

std::int64_t GetId(std::string_view bytes) {
  std::uint64_t u = 0;
  for (char c : bytes.substr(0, kIdBytes)) u = (u << 8) | static_cast<unsigned char>(c);
  return static_cast<std::int64_t>(u);
}

std::string Mac(std::string_view key, std::string_view signed_part) {
  return crypto::HmacSha256(key, signed_part).substr(0, kMacBytes);
}

}  // namespace

std::string SignUnsubscribeToken(std::string_view key, const UnsubscribeClaims& claims) {
  std::string bytes;
  bytes += static_cast<char>(kVersion);
  PutId(bytes, claims.site_id);
  PutId(bytes, claims.campaign_id.value_or(0));
  bytes += claims.email;
  bytes += Mac(key, bytes);
  return crypto::Base64UrlEncode(bytes);
}

std::optional<UnsubscribeClaims> VerifyUnsubscribeToken(std::string_view key, std::string_view token) {
  if (token.empty() || token.size() > kMaxUnsubscribeTokenChars) return std::nullopt;
  auto bytes = crypto::Base64UrlDecode(token);
  if (!bytes || bytes->size() < kHeaderBytes + kMinEmailBytes + kMacBytes) return std::nullopt;
  const std::string_view all(*bytes);
  const auto signed_part = all.substr(0, all.size() - kMacBytes);
  // The MAC first, so that nothing about an unsigned token is interpreted.
  if (!crypto::ConstantTimeEquals(Mac(key, signed_part), all.substr(signed_part.size()))) return std::nullopt;
  if (static_cast<unsigned char>(all[0]) != kVersion) return std::nullopt;
  UnsubscribeClaims claims;
  claims.site_id = GetId(all.substr(1));
  const auto campaign = GetId(all.substr(1 + kIdBytes));
  if (claims.site_id <= 0 || campaign < 0) return std::nullopt;
  if (campaign > 0) claims.campaign_id = campaign;
  claims.email = std::string(signed_part.substr(kHeaderBytes));
  for (char c : claims.email) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) return std::nullopt;
  }
  if (claims.email.find('@') == std::string::npos) return std::nullopt;
  return claims;
}

}  // namespace poste::mail
