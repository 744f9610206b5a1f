#pragma once
// Bounces and complaints a site received (storage: mail_bounce_store.hpp): from DSNs synced into its
// bounce mailbox, SendGrid's Event Webhook and Amazon SES through SNS. A hard bounce and a complaint put
// the address on the suppression list; a soft bounce is only recorded.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poste::mail {

inline constexpr int kMaxBounceListLimit = 200;
inline constexpr std::size_t kMaxBounceDetailBytes = 2000;
inline constexpr std::size_t kMaxBounceStatusBytes = 32;
inline constexpr std::size_t kMaxBounceKeyBytes = 512;

enum class BounceKind { kHard, kSoft, kComplaint };
std::string_view BounceKindName(BounceKind kind);  // "hard", "soft", "complaint"
std::optional<BounceKind> ParseBounceKind(std::string_view name);

// Where a report came from: "dsn", "sendgrid", "ses".
bool IsBounceSource(std::string_view source);

struct BounceRecord {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::string email;
  BounceKind kind = BounceKind::kSoft;
  std::string source;
  std::optional<std::int64_t> message_id;    // mail_messages.id
  std::optional<std::int64_t> campaign_id;   // mail_campaigns.id
  std::optional<std::int64_t> recipient_id;  // mail_campaign_recipients.id
  std::string status;                        // "5.1.1" when known
  std::string detail;
  std::int64_t occurred_at = 0;  // epoch ms
  std::int64_t created_at = 0;
};

// One bounce or complaint as a source reports it, before it is matched to what was sent.
struct BounceReport {
  std::string email;
  BounceKind kind = BounceKind::kSoft;
  std::string source;
  std::string status;
  std::string detail;
  // The same event reported again (a DSN synced twice, a webhook retried) has the same key: one row.
  std::string dedupe_key;
  std::string header_message_id;    // the Message-ID of the bounced message, with or without <>
  std::string provider_message_id;  // the id the provider answered at sending
  std::int64_t occurred_at = 0;     // epoch ms; 0: now
};

struct BounceFilter {
  std::optional<BounceKind> kind;
  std::optional<std::int64_t> campaign_id;
  int limit = 50;
  std::optional<std::int64_t> cursor;  // entries with a smaller id
};

struct BouncePage {
  std::vector<BounceRecord> items;  // newest first
  std::optional<std::int64_t> next_cursor;
};

// What was sent, found by a bounce's Message-ID or provider id.
struct SentRef {
  std::optional<std::int64_t> message_id;
  std::optional<std::int64_t> campaign_id;
  std::optional<std::int64_t> recipient_id;
};

struct BounceMailbox {
  std::int64_t site_id = 0;
  std::int64_t inbox_account_id = 0;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// {id, email, kind, source, message_id|null, campaign_id|null, recipient_id|null, status, detail,
// occurred_at, created_at}.
nlohmann::json ToJson(const BounceRecord& b);
nlohmann::json ToJson(const BounceMailbox& m);

// At most max_bytes, cut on a UTF-8 character boundary.
std::string CutUtf8(std::string_view text, std::size_t max_bytes);

}  // namespace poste::mail
