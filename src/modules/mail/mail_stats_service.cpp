#include "modules/mail/mail_stats_service.hpp"

#include <chrono>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "modules/mail/mail_stats_store.hpp"

namespace poste::mail {

MailStatsService::MailStatsService(db::Database& db, StatsOptions options) : db_(db), options_(std::move(options)) {}

std::int64_t MailStatsService::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Stats MailStatsService::ForSite(std::int64_t site_id, const StatsQuery& query) {
  std::optional<std::int64_t> created;
  if (query.campaign_id) {
    created =
        db_.ReadValue([&](soci::session& s) { return stats_store::CampaignCreatedAt(s, site_id, *query.campaign_id); });
    if (!created) throw AppError::NotFound("No such campaign.");
  }
  return Compute(site_id, query, created);
}

Stats MailStatsService::ForCampaign(std::int64_t site_id, std::int64_t campaign_id, const StatsQuery& query) {
  auto created =
      db_.ReadValue([&](soci::session& s) { return stats_store::CampaignCreatedAt(s, site_id, campaign_id); });
  if (!created) throw AppError::NotFound("No such campaign.");
  StatsQuery q = query;
  q.campaign_id = campaign_id;
  return Compute(site_id, q, created);
}

Stats MailStatsService::Compute(std::int64_t site_id, const StatsQuery& query,
                                std::optional<std::int64_t> campaign_created_at) {
  Stats stats;
  stats.timezone = options_.site_timezone ? options_.site_timezone(site_id) : "UTC";
  std::vector<FieldError> errors;
  const auto read = [&](const std::optional<std::string>& text, const char* field) -> std::optional<LocalDate> {
    if (!text) return std::nullopt;
    auto date = ParseLocalDate(*text);
    if (!date) errors.push_back({field, "invalid_format", "a date as YYYY-MM-DD"});
    return date;
  };
  const auto from = read(query.from, "from");
  const auto to = read(query.to, "to");
  if (!errors.empty()) throw AppError::BadRequest("The dates are invalid.", std::move(errors));
  stats.range.campaign_id = query.campaign_id;
  stats.range.to = to ? *to : LocalDateOf(Now(), stats.timezone);
  if (from) {
    stats.range.from = *from;
  } else if (campaign_created_at) {
    stats.range.from = LocalDateOf(*campaign_created_at, stats.timezone);
    if (stats.range.from.days > stats.range.to.days) stats.range.from = stats.range.to;
    if (stats.range.to.days - stats.range.from.days >= kMaxStatsDays) {
      stats.range.from.days = stats.range.to.days - (kMaxStatsDays - 1);
    }
  } else {
    stats.range.from.days = stats.range.to.days - (kDefaultStatsDays - 1);
  }
  if (stats.range.from.days > stats.range.to.days) {
    throw AppError::BadRequest("from is after to.", {{"from", "invalid_value", "on or before to"}});
  }
  if (stats.range.to.days - stats.range.from.days >= kMaxStatsDays) {
    throw AppError::BadRequest("The range is too long.", {{"to", "invalid_value", "at most 366 days from from"}});
  }
  const auto [lo, hi] = UtcWindow(stats.range);
  const auto buckets =
      db_.ReadValue([&](soci::session& s) { return stats_store::Buckets(s, site_id, lo, hi, query.campaign_id); });
  stats.days = FoldIntoDays(buckets, stats.range, stats.timezone);
  return stats;
}

}  // namespace poste::mail
