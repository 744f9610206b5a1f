#pragma once
// Per-recipient unsubscribe tokens (the opaque part of https://<site>/u/<token>): who (site, address) and
// why (the campaign, if any), signed with HMAC-SHA256 under a key the app derives from the master key.
// Anyone holding a token can unsubscribe that address from that site, and nothing else: a token names one
// site and one address, and changing any byte of it breaks the signature.
//
// Layout before base64url (RFC 4648 §5, no padding): version (1 byte, 1) | site id (8 bytes, big-endian) |
// campaign id (8 bytes, big-endian, 0 = none) | the address (bytes) | the first 16 bytes of
// HMAC-SHA256(key, everything before). Tokens do not expire: RFC 8058 links must keep working for as long as
// the message may be read. Rotating the key (or the version) invalidates every link sent before.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace poste::mail {

inline constexpr std::size_t kMaxUnsubscribeTokenChars = 512;

struct UnsubscribeClaims {
  std::int64_t site_id = 0;
  std::string email;
  std::optional<std::int64_t> campaign_id;
  bool operator==(const UnsubscribeClaims&) const = default;
};

// `claims.email` as it should be suppressed (the caller normalises it); site and campaign ids positive.
std::string SignUnsubscribeToken(std::string_view key, const UnsubscribeClaims& claims);

// The claims of a token signed under `key`; nullopt for anything else (too long, not base64url, too short,
// another version, a signature that does not match: compared in constant time, ids not positive, an
// address with control characters or without an '@').
std::optional<UnsubscribeClaims> VerifyUnsubscribeToken(std::string_view key, std::string_view token);

}  // namespace poste::mail
