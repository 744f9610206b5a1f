#pragma once
// Providers' event endpoints (storage: provider_events_store.hpp): one per SendGrid or SES mail account, an
// anonymous POST /api/v1/mail/events/{sendgrid|ses}/{token} whose unguessable token names the account (and
// so its site). Only the token's SHA-256 is stored: the path is shown when the endpoint is made or its
// token rotated, never again.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::mail {

inline constexpr std::size_t kMaxTopicArnBytes = 256;
inline constexpr std::size_t kProviderEndpointBodyLimit = 8192;    // of the admin's JSON
inline constexpr std::size_t kSendGridEventsBodyLimit = 1u << 20;  // SendGrid batches up to 768 KB
inline constexpr std::size_t kSnsEventsBodyLimit = 512 * 1024;     // SNS: 256 KB of message, escaped in JSON
inline constexpr std::int64_t kSendGridReplayWindowMs = 10 * 60 * 1000;

struct ProviderEndpoint {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::int64_t account_id = 0;
  std::string provider;  // "sendgrid" | "ses": the account's type
  std::string token_hash;
  std::string verification_key;              // SendGrid
  std::string topic_arn;                     // SES
  std::optional<std::int64_t> confirmed_at;  // SES: when the SNS subscription was confirmed
  std::optional<std::int64_t> last_event_at;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// What an admin sends: account_id on creation only; verification_key for SendGrid, topic_arn for SES.
struct ProviderEndpointInput {
  std::optional<std::int64_t> account_id;
  std::optional<std::string> verification_key;
  std::optional<std::string> topic_arn;
};

// Reads the JSON object (unknown fields and wrong types are field errors).
ProviderEndpointInput ProviderEndpointInputFromJson(const nlohmann::json& json, bool creating,
                                                    std::vector<FieldError>& errors);

// "arn:aws:sns:us-east-1:123456789012:name" (also the aws-cn and aws-us-gov partitions; .fifo names).
bool IsSnsTopicArn(std::string_view arn);

// The path of an endpoint with this token.
std::string ProviderEventsPath(std::string_view provider, std::string_view token);

// {id, account_id, provider, verification_key, topic_arn, confirmed_at|null, last_event_at|null, created_at,
// updated_at}.
nlohmann::json ToJson(const ProviderEndpoint& e);

}  // namespace poste::mail
