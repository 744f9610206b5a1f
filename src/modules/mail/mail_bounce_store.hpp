#pragma once
// The mail_bounces and mail_bounce_mailboxes tables, and the look-up of a bounced message among the site's
// mail_messages and campaign recipients: SQL and nothing else, scoped by site. Times are passed in (epoch ms).
#include <cstdint>
#include <optional>
#include <string>

#include "modules/mail/mail_bounce_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::bounce_store {

// Inserts the bounce (its id and created_at ignored) unless the site has one with this dedupe key; the new
// id, or nullopt for a duplicate.
std::optional<std::int64_t> InsertIfNew(soci::session& s, const BounceRecord& b, const std::string& dedupe_key,
                                        std::int64_t now_ms);
bool Exists(soci::session& s, std::int64_t site_id, const std::string& dedupe_key);
std::optional<BounceRecord> Get(soci::session& s, std::int64_t site_id, std::int64_t id);
BouncePage List(soci::session& s, std::int64_t site_id, const BounceFilter& filter);

// The site's message or campaign recipient with this Message-ID (given with or without <>) or, failing
// that, this provider id; empty when neither names one of the site's.
SentRef FindSent(soci::session& s, std::int64_t site_id, const std::string& header_message_id,
                 const std::string& provider_message_id);

std::optional<BounceMailbox> GetMailbox(soci::session& s, std::int64_t site_id);
// The site whose bounce mailbox the inbox account is, if any.
std::optional<std::int64_t> SiteOfMailbox(soci::session& s, std::int64_t inbox_account_id);
void PutMailbox(soci::session& s, std::int64_t site_id, std::int64_t inbox_account_id, std::int64_t now_ms);
bool DeleteMailbox(soci::session& s, std::int64_t site_id);

}  // namespace poste::mail::bounce_store
