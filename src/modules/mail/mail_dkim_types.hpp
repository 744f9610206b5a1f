#pragma once
// DKIM keys of a site (RFC 6376): a key signs the mail of one domain with one selector; the receiver finds
// its public half in DNS at <selector>._domainkey.<domain>. Storage: mail_dkim_store.hpp.
//
// Which domains: any valid domain name, not only the site's own domains. A site often sends From another
// domain than the one it is served on (news@brand-mail.example for www.brand.example), and a key for a
// domain the site does not control is harmless: no receiver finds its record in DNS, so its signatures
// never verify. What decides is the From of each message: a key signs a message when its domain is the
// From's domain or a parent of it (DMARC's relaxed alignment); the closest domain wins, then the newest key.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::mail {

inline constexpr int kDkimKeyBits = 2048;
inline constexpr std::size_t kMaxDkimKeysPerSite = 50;
inline constexpr std::size_t kMaxDkimSelector = 63;  // one DNS label
inline constexpr std::size_t kDkimBodyLimit = 4 * 1024;

struct DkimKey {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::string domain;              // ASCII (punycode), lower case
  std::string selector;            // lower case
  std::string sealed_private_key;  // SecretBox-sealed PEM; never leaves the service
  std::string public_key;          // base64 DER SubjectPublicKeyInfo (the p= of the record)
  int bits = kDkimKeyBits;
  bool enabled = true;
  std::optional<std::int64_t> created_by;
  std::int64_t created_at = 0;  // epoch ms
  std::int64_t updated_at = 0;
};

// What POST .../mail/dkim takes: {"domain", "selector"?, "enabled"?}.
struct DkimKeyInput {
  std::string domain;
  std::string selector;  // empty: "poste" and the year and month, e.g. "poste202611"
  bool enabled = true;
};

// Reads the body (unknown fields and wrong types are field errors).
DkimKeyInput DkimKeyInputFromJson(const nlohmann::json& json, std::vector<FieldError>& errors);

// The domain to store: trimmed, lower case, an IDN in punycode; nullopt when it is not a domain name
// (validate::IsValidDomain once converted).
std::optional<std::string> DkimDomain(std::string_view domain);
// Whether a selector is 1-63 of [a-z0-9-_.], starting and ending with a letter or digit (a DNS name under
// _domainkey); the caller lower-cases it first.
bool IsDkimSelector(std::string_view selector);

// The ASCII lower-case domain of a From address ("Zoë <news@Exämple.com>" is not a From: pass the address).
std::string FromDomain(std::string_view email);
// Whether a key for `key_domain` signs mail From `from_domain`: equal, or a parent domain.
bool DkimAligned(std::string_view key_domain, std::string_view from_domain);

// "<selector>._domainkey.<domain>".
std::string DkimDnsName(const DkimKey& key);
// The record's text cut into DNS character-strings of at most 255 bytes (a TXT record holds several).
std::vector<std::string> DkimTxtStrings(std::string_view record);

// {id, site_id, domain, selector, algorithm, bits, enabled, dns: {name, type, value, strings, zone_line},
//  created_by|null, created_at, updated_at}. Never the private key.
nlohmann::json ToJson(const DkimKey& key);

}  // namespace poste::mail
