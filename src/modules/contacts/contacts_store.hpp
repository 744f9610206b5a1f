#pragma once
// The contacts table: SQL and nothing else. Every function takes the site id and filters by it; it runs on
// the session of the caller's Database::Write (or Read for queries). Times are passed in (epoch ms).
#include <cstdint>
#include <optional>
#include <string>

#include "modules/contacts/contacts_types.hpp"

namespace soci {
class session;
}

namespace poste::contacts::store {

// `contact` holds the normalised fields; its id, read, archived and notify fields are ignored. The new id.
std::int64_t Insert(soci::session& s, const Contact& contact, std::int64_t now_ms);

std::optional<Contact> Get(soci::session& s, std::int64_t site_id, std::int64_t id);

ContactPage List(soci::session& s, std::int64_t site_id, const ContactFilter& filter);

// Applies what the patch sets; nullopt when there is no such contact on the site.
std::optional<Contact> Update(soci::session& s, std::int64_t site_id, std::int64_t id, const ContactPatch& patch,
                              std::int64_t now_ms);

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id);

// The notification's outcome; false when there is no such contact.
bool SetNotify(soci::session& s, std::int64_t site_id, std::int64_t id, NotifyStatus status, const std::string& error,
               std::int64_t now_ms);

// Unread contacts not archived (for a dashboard).
std::int64_t CountUnread(soci::session& s, std::int64_t site_id);

}  // namespace poste::contacts::store
