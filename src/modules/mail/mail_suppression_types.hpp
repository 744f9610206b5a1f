#pragma once
// A site's suppression list: the addresses it never sends to, and why. Storage: mail_suppression_store.hpp.
//
// Addresses are kept in one normal form (SuppressionAddress) so that every look-up matches however the
// address was written: surrounding spaces trimmed, the domain lower-cased and an international domain in
// punycode; the local part is kept as it is (RFC 5321 lets a server tell "Bob" from "bob").
//
// One row per address. When an address is reported again, a stronger reason replaces a weaker one and never
// the reverse: complaint > unsubscribe > hard_bounce > manual. A person's own refusal (complaint,
// unsubscribe) outranks a technical reason, so that the reason shown is the one that must never be undone by
// clearing bounces.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poste::mail {

inline constexpr std::size_t kMaxSuppressionNoteChars = 1000;    // an admin's note
inline constexpr std::size_t kMaxSuppressionDetailBytes = 2000;  // a report's detail, cut beyond
inline constexpr std::size_t kMaxSuppressionSourceBytes = 64;
inline constexpr int kMaxSuppressionListLimit = 200;

enum class SuppressionReason { kManual, kHardBounce, kUnsubscribe, kComplaint };  // weakest first

std::string_view ReasonName(SuppressionReason reason);  // "manual", "hard_bounce", "unsubscribe", "complaint"
std::optional<SuppressionReason> ParseReason(std::string_view name);
// Whether `incoming` replaces `current` (strictly stronger).
bool Outranks(SuppressionReason incoming, SuppressionReason current);

// The normal form of an address for the list, or nullopt when `email` is not an address the mail engine
// accepts (mail::IsValidAddress once trimmed).
std::optional<std::string> SuppressionAddress(std::string_view email);

struct Suppression {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::string email;  // normal form
  SuppressionReason reason = SuppressionReason::kManual;
  std::string source;  // "api", "one_click", "page", "dsn", "sendgrid", "ses"...
  std::string detail;  // a note, a bounce's diagnostic
  std::optional<std::int64_t> campaign_id;
  std::optional<std::int64_t> created_by;
  std::int64_t created_at = 0;  // epoch ms
  std::int64_t updated_at = 0;
};

struct SuppressionFilter {
  std::optional<SuppressionReason> reason;
  std::string q;  // in the address, case-insensitive (an address is searched in its normal form)
  int limit = 50;
  std::optional<std::int64_t> cursor;  // next_cursor of the previous page: entries with a smaller id
};

struct SuppressionPage {
  std::vector<Suppression> items;  // newest first
  std::optional<std::int64_t> next_cursor;
};

// {id, site_id, email, reason, source, detail, campaign_id|null, created_by|null, created_at, updated_at}.
nlohmann::json ToJson(const Suppression& s);

}  // namespace poste::mail
