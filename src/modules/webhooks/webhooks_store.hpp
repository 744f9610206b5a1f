#pragma once
// The webhook_subscriptions, webhook_deliveries and webhook_attempts tables: SQL and nothing else. Every
// function takes the site id and filters by it; it runs on the session of the caller's Database::Write (or
// Read for queries). Times are passed in (epoch ms).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modules/webhooks/webhooks_types.hpp"

namespace soci {
class session;
}

namespace poste::webhooks::store {

// sub.sealed_secret is stored as given. The new id.
std::int64_t InsertSubscription(soci::session& s, const Subscription& sub, std::int64_t now_ms);
std::optional<Subscription> GetSubscription(soci::session& s, std::int64_t site_id, std::int64_t id);
// Oldest first.
std::vector<Subscription> ListSubscriptions(soci::session& s, std::int64_t site_id);
std::int64_t CountSubscriptions(soci::session& s, std::int64_t site_id);
// Active subscriptions of the site that chose this event type.
std::vector<Subscription> SubscribersOf(soci::session& s, std::int64_t site_id, std::string_view event_type);
// Writes url, events, sealed_secret, active, consecutive_failures and disabled_reason as given.
bool SaveSubscription(soci::session& s, const Subscription& sub, std::int64_t now_ms);
bool DeleteSubscription(soci::session& s, std::int64_t site_id, std::int64_t id);

// Inserts a pending delivery unless one with the same (subscription, dedup_key) exists; either way returns
// the delivery's id.
std::int64_t InsertDelivery(soci::session& s, const Delivery& delivery, const std::string& dedup_key,
                            std::int64_t now_ms);
// With its attempt log.
std::optional<Delivery> GetDelivery(soci::session& s, std::int64_t site_id, std::int64_t id);
// A subscription's deliveries, newest first, each with its attempt log.
DeliveryPage ListDeliveries(soci::session& s, std::int64_t site_id, std::int64_t subscription_id, int limit,
                            std::optional<std::int64_t> cursor);
// Appends an attempt and copies its outcome onto the delivery, with the delivery's new status.
void RecordAttempt(soci::session& s, std::int64_t site_id, std::int64_t delivery_id, const Attempt& attempt,
                   DeliveryStatus status);

}  // namespace poste::webhooks::store
