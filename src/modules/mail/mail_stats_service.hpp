#pragma once
// A site's sending stats per local day (mail_stats_types.hpp), for the whole site or one campaign. No HTTP.
// Blocks (SQL): call it through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "modules/mail/mail_stats_types.hpp"

namespace poste::db {
class Database;
}

namespace poste::mail {

struct StatsOptions {
  std::function<std::string(std::int64_t site_id)> site_timezone;  // IANA name; default "UTC"
  std::function<std::int64_t()> now_ms;                            // default: the system clock
};

// What a caller asks: dates as YYYY-MM-DD (local to the site), both optional.
struct StatsQuery {
  std::optional<std::string> from, to;
  std::optional<std::int64_t> campaign_id;
};

class MailStatsService {
 public:
  MailStatsService(db::Database& db, StatsOptions options);

  // Defaults: `to` today, `from` 29 days before `to` (a campaign's: the day it was created, within the
  // bound). 400 for a malformed date, from after to, or more than kMaxStatsDays days; 404 when the site has
  // no such campaign.
  Stats ForSite(std::int64_t site_id, const StatsQuery& query);
  Stats ForCampaign(std::int64_t site_id, std::int64_t campaign_id, const StatsQuery& query);

 private:
  Stats Compute(std::int64_t site_id, const StatsQuery& query, std::optional<std::int64_t> campaign_created_at);
  std::int64_t Now() const;

  db::Database& db_;
  StatsOptions options_;
};

}  // namespace poste::mail
