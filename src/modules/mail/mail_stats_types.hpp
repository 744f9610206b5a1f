#pragma once
// Sending stats of a site per day: how many messages were queued, sent, failed, bounced and unsubscribed,
// for single messages and for campaigns, each day in the site's time zone. Computed from the rows (no
// counters on the send path): SQL counts per UTC quarter hour (cheap and the same in both dialects), and
// FoldIntoDays puts each quarter hour into the local day it starts in (every zone's offset and every DST
// change falls on a quarter hour, so this is exact, half-hour and 45-minute zones included).
#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poste::mail {

inline constexpr std::int64_t kStatsBucketMs = 15 * 60 * 1000;
inline constexpr int kMaxStatsDays = 366;
inline constexpr int kDefaultStatsDays = 30;

enum class StatKind { kQueued, kSent, kFailed, kBounced, kComplained, kUnsubscribed };

struct StatCounts {
  std::int64_t queued = 0, sent = 0, failed = 0, bounced = 0, complained = 0, unsubscribed = 0;
  void Add(StatKind kind, std::int64_t n);
};

// One count of the SQL: `count` events of `kind` in the quarter hour `bucket` (epoch ms / kStatsBucketMs).
struct BucketCount {
  std::int64_t bucket = 0;
  StatKind kind = StatKind::kQueued;
  bool campaign = false;  // of a campaign, else of single messages
  std::int64_t count = 0;
};

// A civil date, days since 1970-01-01 (may be negative).
struct LocalDate {
  std::int64_t days = 0;
  std::string Text() const;  // YYYY-MM-DD
};
// Strict YYYY-MM-DD (years 1970..9999, a real day); nullopt otherwise.
std::optional<LocalDate> ParseLocalDate(std::string_view text);
// The local date of an instant in a zone (UTC when the zone is unknown).
LocalDate LocalDateOf(std::int64_t epoch_ms, std::string_view timezone);

struct DayStats {
  LocalDate date;
  StatCounts messages;   // single messages (mail_messages) and what refers to no campaign
  StatCounts campaigns;  // campaign recipients and what refers to a campaign
};

struct StatsRange {
  LocalDate from, to;  // inclusive, local dates of the site
  std::optional<std::int64_t> campaign_id;
};

struct Stats {
  StatsRange range;
  std::string timezone;
  std::vector<DayStats> days;  // every day of the range, oldest first (days without events have zeros)
};

// [from 00:00, to+1 00:00) widened by the largest offsets there are (-12h..+14h), as epoch ms: the SQL range
// that holds every quarter hour of the local days.
std::pair<std::int64_t, std::int64_t> UtcWindow(const StatsRange& range);

// Folds the quarter hours into the range's local days (those outside it are dropped).
std::vector<DayStats> FoldIntoDays(const std::vector<BucketCount>& buckets, const StatsRange& range,
                                   std::string_view timezone);

// {from, to, timezone, campaign_id|null, days: [{date, queued, sent, failed, bounced, complained,
//  unsubscribed, messages: {...}, campaigns: {...}}], totals: {the same}}.
nlohmann::json ToJson(const Stats& stats);

}  // namespace poste::mail
