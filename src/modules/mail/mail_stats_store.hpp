#pragma once
// The counts behind a site's sending stats: SQL and nothing else, each query scoped by the site. Events are
// counted per UTC quarter hour (epoch ms / kStatsBucketMs, an integer division both dialects do alike).
#include <cstdint>
#include <optional>
#include <vector>

#include "modules/mail/mail_stats_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::stats_store {

// The quarter hours of [from_ms, to_ms) with their counts: single messages queued (created_at), sent
// (sent_at), failed (updated_at of a failed message); campaign recipients queued (the campaign's start),
// sent (sent_at), failed (the campaign's end, else its start: a recipient row keeps no time of failure);
// bounces and complaints (occurred_at); unsubscribes (the suppression's created_at). With a campaign, only
// what belongs to it (no single messages).
std::vector<BucketCount> Buckets(soci::session& s, std::int64_t site_id, std::int64_t from_ms, std::int64_t to_ms,
                                 std::optional<std::int64_t> campaign_id);

// The campaign's created_at, nullopt when the site has no such campaign.
std::optional<std::int64_t> CampaignCreatedAt(soci::session& s, std::int64_t site_id, std::int64_t campaign_id);

}  // namespace poste::mail::stats_store
