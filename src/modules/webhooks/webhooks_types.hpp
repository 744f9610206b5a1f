#pragma once
// The webhooks module's structs, their JSON mapping and their validation: per-site subscriptions and the
// log of their deliveries. Storage is in webhooks_store.hpp.
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"

namespace poste::webhooks {

inline constexpr std::string_view kDeliverJobKind = "webhook.deliver";
inline constexpr std::string_view kPingEvent = "ping";  // sent by the test route only, never subscribed to
inline constexpr std::size_t kMaxExcerptBytes = 1024;
inline constexpr std::size_t kMinSecretBytes = 16;
inline constexpr std::size_t kMaxSecretBytes = 256;
inline constexpr int kMaxSubscriptionsPerSite = 50;

struct Subscription {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::string url;
  std::vector<std::string> events;
  bool active = true;
  int consecutive_failures = 0;
  std::string disabled_reason;  // why it was disabled automatically; "" otherwise
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::string sealed_secret;  // never leaves the server
};

struct NewSubscription {
  std::string url;
  std::vector<std::string> events;
  std::optional<std::string> secret;  // generated when absent
  bool active = true;
};

// Absent = unchanged.
struct SubscriptionPatch {
  std::optional<std::string> url;
  std::optional<std::vector<std::string>> events;
  std::optional<std::string> secret;
  std::optional<bool> active;
};

enum class DeliveryStatus { kPending, kSucceeded, kFailed, kSkipped };
std::string_view DeliveryStatusName(DeliveryStatus status);
DeliveryStatus ParseDeliveryStatus(std::string_view name);  // unknown -> kPending

struct Attempt {
  int attempt = 0;
  std::int64_t at = 0;
  std::optional<int> response_status;  // none when no HTTP answer came
  std::int64_t response_ms = 0;
  std::string response_excerpt;
  std::string error;
};

struct Delivery {
  std::int64_t id = 0;
  std::int64_t site_id = 0;
  std::int64_t subscription_id = 0;
  std::string event_id;
  std::string event_type;
  std::string payload;  // the exact body sent
  bool manual = false;  // a test ping or a redelivery
  std::optional<std::int64_t> redelivery_of;
  DeliveryStatus status = DeliveryStatus::kPending;
  int attempts = 0;
  std::optional<int> response_status;  // of the last attempt
  std::optional<std::int64_t> response_ms;
  std::string response_excerpt;
  std::string error;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::vector<Attempt> attempt_log;  // oldest first (filled where listed)
};

struct DeliveryPage {
  std::vector<Delivery> items;  // newest first
  std::optional<std::int64_t> next_cursor;
};
inline constexpr int kMaxListLimit = 100;

// {id, site_id, url, events[], active, consecutive_failures, disabled_reason, secret_set: true, created_at,
//  updated_at}: never the secret.
nlohmann::json ToJson(const Subscription& subscription);
// {id, subscription_id, event_id, event_type, manual, redelivery_of, status, attempts, response_status,
//  response_ms, response_excerpt, error, created_at, updated_at, payload (the event), attempt_log[]}.
nlohmann::json ToJson(const Delivery& delivery);

// Each a known event type (kEventTypes), at least one, no duplicates.
std::vector<FieldError> ValidateEvents(const std::vector<std::string>& events, std::string_view field = "events");
// kMinSecretBytes..kMaxSecretBytes of printable ASCII.
std::vector<FieldError> ValidateSecret(std::string_view secret, std::string_view field = "secret");

// At most kMaxExcerptBytes of a response body, cut on a character boundary, with invalid UTF-8 and NUL
// replaced (U+FFFD), so that it can be stored in a TEXT column of either database and shown as JSON.
std::string Excerpt(std::string_view body);

}  // namespace poste::webhooks
