#pragma once
// Site events for webhooks: a module that changes something (an entry published, a media item deleted, a
// contact received) calls EmitIn in the transaction of the change. The event becomes a durable job of kind
// kEventJobKind, committed (or rolled back) with the change itself, so an event is never lost nor sent for a
// change that did not happen; the webhooks module's handler fans it out to the site's subscriptions.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

namespace soci {
class session;
}
namespace poste::jobs {
class JobQueue;
}

namespace poste::webhooks {

inline constexpr std::string_view kEventJobKind = "webhook.event";

// The event types subscriptions may choose.
inline constexpr std::string_view kEventTypes[] = {
    "entry.created", "entry.updated",    "entry.deleted", "entry.published", "media.created",
    "media.deleted", "contact.received", "email.sent",    "email.failed",    "email.bounced"};

bool IsEventType(std::string_view type);

// Queues the event {id, type, site_id, occurred_at (epoch ms), data} in the caller's Database::Write
// transaction `tx`. Throws std::invalid_argument for an unknown type. Call queue.NotifyEnqueued() after the
// commit to wake local workers at once (or let them poll).
void EmitIn(jobs::JobQueue& queue, soci::session& tx, std::int64_t site_id, std::string_view type,
            const nlohmann::json& data);

}  // namespace poste::webhooks
