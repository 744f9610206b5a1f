#include "modules/mail/mail_stats_types.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "modules/mail/mail_message_time.hpp"

namespace poste::mail {

namespace {

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
std::int64_t DaysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void CivilFromDays(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

nlohmann::json CountsJson(const StatCounts& c) {
  return {{"queued", c.queued},         {"sent", c.sent},
          {"failed", c.failed},         {"bounced", c.bounced},
          {"complained", c.complained}, {"unsubscribed", c.unsubscribed}};
}

StatCounts Sum(const StatCounts& a, const StatCounts& b) {
  return {a.queued + b.queued,         a.sent + b.sent,
          a.failed + b.failed,         a.bounced + b.bounced,
          a.complained + b.complained, a.unsubscribed + b.unsubscribed};
}

}  // namespace

void StatCounts::Add(StatKind kind, std::int64_t n) {
  switch (kind) {
    case StatKind::kQueued:
      queued += n;
      break;
    case StatKind::kSent:
      sent += n;
      break;
    case StatKind::kFailed:
      failed += n;
      break;
    case StatKind::kBounced:
      bounced += n;
      break;
    case StatKind::kComplained:
      complained += n;
      break;
    case StatKind::kUnsubscribed:
      unsubscribed += n;
      break;
  }
}

std::string LocalDate::Text() const {
  std::int64_t y = 0;
  unsigned m = 0, d = 0;
  CivilFromDays(days, y, m, d);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buffer;
}

std::optional<LocalDate> ParseLocalDate(std::string_view t) {
  if (t.size() != 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i) {
    for (std::size_t k = 0; k < lengths[i]; ++k) {
      const char c = t[starts[i] + k];
      if (c < '0' || c > '9') return std::nullopt;
      parts[i] = parts[i] * 10 + (c - '0');
    }
  }
  const int y = parts[0], m = parts[1], d = parts[2];
  if (y < 1970 || m < 1 || m > 12 || d < 1) return std::nullopt;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
  return LocalDate{DaysFromCivil(y, static_cast<unsigned>(m), static_cast<unsigned>(d))};
}

LocalDate LocalDateOf(std::int64_t epoch_ms, std::string_view timezone) {
  const std::int64_t seconds = FloorDiv(epoch_ms, 1000);
  const std::int64_t offset = ZoneOffset(timezone, seconds).value_or(0);
  return LocalDate{FloorDiv(seconds + offset, 86400)};
}

std::pair<std::int64_t, std::int64_t> UtcWindow(const StatsRange& r) {
  constexpr std::int64_t kDayMs = 86400 * 1000LL, kHourMs = 3600 * 1000LL;
  return {r.from.days * kDayMs - 14 * kHourMs, (r.to.days + 1) * kDayMs + 12 * kHourMs};
}

std::vector<DayStats> FoldIntoDays(const std::vector<BucketCount>& buckets, const StatsRange& range,
                                   std::string_view timezone) {
  std::vector<DayStats> days;
  for (std::int64_t d = range.from.days; d <= range.to.days; ++d) days.push_back({LocalDate{d}, {}, {}});
  for (const auto& b : buckets) {
    const auto date = LocalDateOf(b.bucket * kStatsBucketMs, timezone);
    if (date.days < range.from.days || date.days > range.to.days) continue;
    auto& day = days[static_cast<std::size_t>(date.days - range.from.days)];
    (b.campaign ? day.campaigns : day.messages).Add(b.kind, b.count);
  }
  return days;
}

nlohmann::json ToJson(const Stats& s) {
  nlohmann::json days = nlohmann::json::array();
  StatCounts messages, campaigns;
  for (const auto& d : s.days) {
    auto day = CountsJson(Sum(d.messages, d.campaigns));
    day["date"] = d.date.Text();
    day["messages"] = CountsJson(d.messages);
    day["campaigns"] = CountsJson(d.campaigns);
    days.push_back(std::move(day));
    messages = Sum(messages, d.messages);
    campaigns = Sum(campaigns, d.campaigns);
  }
  auto totals = CountsJson(Sum(messages, campaigns));
  totals["messages"] = CountsJson(messages);
  totals["campaigns"] = CountsJson(campaigns);
  return {{"from", s.range.from.Text()},
          {"to", s.range.to.Text()},
          {"timezone", s.timezone},
          {"campaign_id", s.range.campaign_id ? nlohmann::json(*s.range.campaign_id) : nlohmann::json()},
          {"days", std::move(days)},
          {"totals", std::move(totals)}};
}

}  // namespace poste::mail
