#pragma once
// The mail_messages table: SQL and nothing else. Every function takes the site id and filters by it; it runs
// on the session of the caller's Database::Write (or Read for queries).
#include <cstdint>
#include <optional>
#include <string>

#include "modules/mail/mail_message_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::message_store {

// The new id.
std::int64_t Insert(soci::session& s, const Message& message, std::int64_t now_ms);
std::optional<Message> Get(soci::session& s, std::int64_t site_id, std::int64_t id);
// Locks the row until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's writer is exclusive).
std::optional<Message> GetForUpdate(soci::session& s, std::int64_t site_id, std::int64_t id);
std::optional<Message> FindByIdempotencyKey(soci::session& s, std::int64_t site_id, const std::string& key);
// Newest first, filtered by the filter's state and recipient.
MessagePage List(soci::session& s, std::int64_t site_id, const MessageFilter& filter);
// Records try `attempt` as sent (state, sent_at) while it still holds the message (sending, same attempt):
// the Delivery::on_commit of the send path. False when another try or a cancel took it.
bool MarkCommitted(soci::session& s, std::int64_t site_id, std::int64_t id, int attempt, std::int64_t now_ms);
// Writes state, attempts, provider_message_id, last_error, refused_recipients and sent_at.
void SaveOutcome(soci::session& s, const Message& message, std::int64_t now_ms);

}  // namespace poste::mail::message_store
