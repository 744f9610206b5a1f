// Sending stats: local dates, the fold of UTC quarter hours into the site's days (DST, half-hour and
// 45-minute zones), and the counts from the rows on SQLite and PostgreSQL (single messages, campaign
// recipients, bounces and complaints, unsubscribes; by site and by campaign; bounded ranges).
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "modules/mail/mail_message_time.hpp"
#include "modules/mail/mail_stats_service.hpp"
#include "modules/mail/mail_stats_types.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::mail {
namespace {

std::int64_t Utc(int y, int m, int d, int h, int mi) { return CivilToEpoch(y, m, d, h, mi, 0) * 1000; }

LocalDate Date(const char* text) { return *ParseLocalDate(text); }

// The status of the AppError `fn` throws; 0 when none.
template <class F>
int Status(F&& fn) {
  try {
    fn();
  } catch (const AppError& e) {
    return e.status();
  }
  return 0;
}

TEST(MailStatsDates, ParseAndPrint) {
  EXPECT_EQ(Date("1970-01-01").days, 0);
  EXPECT_EQ(Date("2024-02-29").Text(), "2024-02-29");
  EXPECT_EQ(Date("2026-12-31").days - Date("2026-01-01").days, 364);
  for (const char* bad :
       {"2023-02-29", "2026-13-01", "2026-00-10", "2026-01-32", "1969-12-31", "2026-1-01", "2026-01-01T00:00", "",
        "abcd-ef-gh", "2026/01/01", "-026-01-01", "2026-01-0\n", "'; DROP TABLE x; --"}) {
    EXPECT_FALSE(ParseLocalDate(bad).has_value()) << bad;
  }
  EXPECT_EQ(LocalDateOf(Utc(2026, 3, 9, 3, 59), "America/New_York").Text(), "2026-03-08");
  EXPECT_EQ(LocalDateOf(Utc(2026, 3, 9, 4, 0), "America/New_York").Text(), "2026-03-09");
  EXPECT_EQ(LocalDateOf(Utc(2026, 1, 1, 0, 0), "No/Such_Zone").Text(), "2026-01-01") << "UTC";
}

TEST(MailStatsFold, QuarterHoursGoToTheirLocalDay) {
  const auto bucket = [](std::int64_t ms) { return ms / kStatsBucketMs; };
  StatsRange range{Date("2026-03-07"), Date("2026-03-09"), std::nullopt};
  // New York switches to summer time on 2026-03-08 at 02:00 (07:00 UTC): that day has 23 hours.
  std::vector<BucketCount> b = {
      {bucket(Utc(2026, 3, 8, 4, 59)), StatKind::kSent, false, 1},   // 23:45 EST on the 7th
      {bucket(Utc(2026, 3, 8, 5, 0)), StatKind::kSent, false, 2},    // 00:00 EST on the 8th
      {bucket(Utc(2026, 3, 9, 3, 59)), StatKind::kSent, true, 4},    // 23:45 EDT on the 8th
      {bucket(Utc(2026, 3, 9, 4, 0)), StatKind::kFailed, false, 8},  // 00:00 EDT on the 9th
      {bucket(Utc(2026, 3, 10, 4, 0)), StatKind::kSent, false, 16},  // the 10th: outside
      {bucket(Utc(2026, 3, 7, 4, 59)), StatKind::kSent, false, 32},  // the 6th: outside
  };
  auto days = FoldIntoDays(b, range, "America/New_York");
  ASSERT_EQ(days.size(), 3u);
  EXPECT_EQ(days[0].date.Text(), "2026-03-07");
  EXPECT_EQ(days[0].messages.sent, 1);
  EXPECT_EQ(days[1].messages.sent, 2);
  EXPECT_EQ(days[1].campaigns.sent, 4);
  EXPECT_EQ(days[2].messages.failed, 8);
  EXPECT_EQ(days[2].messages.sent, 0);
  // Kathmandu is UTC+05:45, Kolkata UTC+05:30: the day starts at 18:15 / 18:30 UTC the day before.
  range = {Date("2026-06-02"), Date("2026-06-02"), std::nullopt};
  b = {{bucket(Utc(2026, 6, 1, 18, 0)), StatKind::kQueued, false, 1},
       {bucket(Utc(2026, 6, 1, 18, 15)), StatKind::kQueued, false, 2},
       {bucket(Utc(2026, 6, 1, 18, 30)), StatKind::kQueued, false, 4}};
  EXPECT_EQ(FoldIntoDays(b, range, "Asia/Kathmandu")[0].messages.queued, 6);
  EXPECT_EQ(FoldIntoDays(b, range, "Asia/Kolkata")[0].messages.queued, 4);
  EXPECT_EQ(FoldIntoDays(b, range, "UTC")[0].messages.queued, 0);
}

TEST(MailStatsFold, TheJsonHasEveryDayAndTotals) {
  Stats s;
  s.range = {Date("2026-01-01"), Date("2026-01-02"), 7};
  s.timezone = "Europe/Paris";
  s.days = FoldIntoDays({{Utc(2026, 1, 1, 12, 0) / kStatsBucketMs, StatKind::kBounced, true, 3},
                         {Utc(2026, 1, 2, 12, 0) / kStatsBucketMs, StatKind::kUnsubscribed, false, 1}},
                        s.range, s.timezone);
  auto j = ToJson(s);
  EXPECT_EQ(j["from"], "2026-01-01");
  EXPECT_EQ(j["campaign_id"], 7);
  ASSERT_EQ(j["days"].size(), 2u);
  EXPECT_EQ(j["days"][0]["bounced"], 3);
  EXPECT_EQ(j["days"][0]["campaigns"]["bounced"], 3);
  EXPECT_EQ(j["days"][0]["messages"]["bounced"], 0);
  EXPECT_EQ(j["days"][1]["unsubscribed"], 1);
  EXPECT_EQ(j["totals"]["bounced"], 3);
  EXPECT_EQ(j["totals"]["messages"]["unsubscribed"], 1);
}

class MailStatsTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    site_ = AddSite("alpha");
    other_ = AddSite("beta");
    StatsOptions options;
    options.site_timezone = [](std::int64_t) { return std::string("America/New_York"); };
    options.now_ms = [this] { return now_; };
    service_ = std::make_unique<MailStatsService>(db(), options);
  }
  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite s;
    s.slug = slug;
    s.name = slug;
    return db().WriteValue([&](soci::session& session) { return sites::store::Insert(session, s, 1); });
  }
  void Message(std::int64_t site, const std::string& state, std::int64_t created, std::int64_t settled) {
    db().Write([&](soci::session& s) {
      const long long site_id = site, c = created, u = settled, sent = settled;
      soci::indicator sent_ind = state == "sent" ? soci::i_ok : soci::i_null;
      s << "INSERT INTO mail_messages (site_id, state, request, message_id, created_at, updated_at, sent_at)"
           " VALUES (:site, :state, '{}', '<m@x>', :c, :u, :sent)",
          soci::use(site_id), soci::use(state), soci::use(c), soci::use(u), soci::use(sent, sent_ind);
    });
  }
  std::int64_t Campaign(std::int64_t site, std::int64_t created, std::optional<std::int64_t> started,
                        std::optional<std::int64_t> finished) {
    return db().WriteValue([&](soci::session& s) {
      const long long site_id = site, c = created, st = started.value_or(0), fi = finished.value_or(0);
      soci::indicator st_ind = started ? soci::i_ok : soci::i_null, fi_ind = finished ? soci::i_ok : soci::i_null;
      long long id = 0;
      s << "INSERT INTO mail_campaigns (site_id, name, state, created_at, updated_at, started_at, finished_at)"
           " VALUES (:site, 'c', 'running', :c, :c2, :st, :fi) RETURNING id",
          soci::use(site_id), soci::use(c), soci::use(c), soci::use(st, st_ind), soci::use(fi, fi_ind), soci::into(id);
      return static_cast<std::int64_t>(id);
    });
  }
  void Recipient(std::int64_t campaign, std::int64_t site, const std::string& state,
                 std::optional<std::int64_t> sent_at) {
    db().Write([&](soci::session& s) {
      const long long c = campaign, site_id = site, sent = sent_at.value_or(0);
      soci::indicator ind = sent_at ? soci::i_ok : soci::i_null;
      const std::string email = "r" + std::to_string(++counter_) + "@example.com";
      s << "INSERT INTO mail_campaign_recipients (campaign_id, site_id, email, email_key, state, sent_at)"
           " VALUES (:c, :site, :e, :k, :state, :sent)",
          soci::use(c), soci::use(site_id), soci::use(email), soci::use(email), soci::use(state), soci::use(sent, ind);
    });
  }
  void Bounce(std::int64_t site, const std::string& kind, std::optional<std::int64_t> campaign, std::int64_t at) {
    db().Write([&](soci::session& s) {
      const long long site_id = site, c = campaign.value_or(0), t = at;
      soci::indicator ind = campaign ? soci::i_ok : soci::i_null;
      const std::string key = "k" + std::to_string(++counter_);
      s << "INSERT INTO mail_bounces (site_id, email, kind, source, campaign_id, dedupe_key, occurred_at,"
           " created_at) VALUES (:site, 'b@example.com', :kind, 'dsn', :c, :key, :t, :t2)",
          soci::use(site_id), soci::use(kind), soci::use(c, ind), soci::use(key), soci::use(t), soci::use(t);
    });
  }
  void Suppression(std::int64_t site, const std::string& reason, std::optional<std::int64_t> campaign,
                   std::int64_t at) {
    db().Write([&](soci::session& s) {
      const long long site_id = site, c = campaign.value_or(0), t = at;
      soci::indicator ind = campaign ? soci::i_ok : soci::i_null;
      const std::string email = "s" + std::to_string(++counter_) + "@example.com";
      s << "INSERT INTO mail_suppressions (site_id, email, reason, campaign_id, created_at, updated_at)"
           " VALUES (:site, :e, :reason, :c, :t, :t2)",
          soci::use(site_id), soci::use(email), soci::use(reason), soci::use(c, ind), soci::use(t), soci::use(t);
    });
  }

  std::unique_ptr<MailStatsService> service_;
  std::int64_t site_ = 0, other_ = 0;
  int counter_ = 0;
  std::int64_t now_ = Utc(2026, 3, 10, 15, 0);
};

TEST_P(MailStatsTest, CountsEveryKindPerLocalDay) {
  const auto day7 = Utc(2026, 3, 7, 17, 0), day8_late = Utc(2026, 3, 9, 3, 50), day9 = Utc(2026, 3, 9, 16, 0);
  Message(site_, "sent", day7, day8_late);  // queued the 7th, sent the 8th (23:50 EDT)
  Message(site_, "failed", day7, day9);     // queued the 7th, failed the 9th
  Message(site_, "queued", day9, day9);     // queued the 9th
  Message(site_, "cancelled", day9, day9);  // queued the 9th
  Message(other_, "sent", day7, day7);      // another site's: never counted
  const auto c = Campaign(site_, day7, day8_late, std::nullopt);
  Recipient(c, site_, "sent", day9);
  Recipient(c, site_, "sent", day9);
  Recipient(c, site_, "failed", std::nullopt);  // while running: on the start day
  Recipient(c, site_, "pending", std::nullopt);
  Campaign(site_, day7, std::nullopt, std::nullopt);  // a draft: nothing queued
  Bounce(site_, "hard", c, day9);
  Bounce(site_, "soft", std::nullopt, day9);
  Bounce(site_, "complaint", c, day9);
  Bounce(other_, "hard", std::nullopt, day9);
  Suppression(site_, "unsubscribe", c, day9);
  Suppression(site_, "unsubscribe", std::nullopt, day7);
  Suppression(site_, "manual", std::nullopt, day9);  // not an unsubscribe

  auto stats = service_->ForSite(site_, {"2026-03-07", "2026-03-09", std::nullopt});
  ASSERT_EQ(stats.days.size(), 3u);
  EXPECT_EQ(stats.timezone, "America/New_York");
  const auto& d7 = stats.days[0];
  const auto& d8 = stats.days[1];
  const auto& d9 = stats.days[2];
  EXPECT_EQ(d7.messages.queued, 2);
  EXPECT_EQ(d7.messages.unsubscribed, 1);
  EXPECT_EQ(d8.messages.sent, 1);
  EXPECT_EQ(d8.campaigns.queued, 4) << "every recipient, when the campaign started";
  EXPECT_EQ(d8.campaigns.failed, 1);
  EXPECT_EQ(d9.messages.queued, 2);
  EXPECT_EQ(d9.messages.failed, 1);
  EXPECT_EQ(d9.messages.bounced, 1);
  EXPECT_EQ(d9.campaigns.sent, 2);
  EXPECT_EQ(d9.campaigns.bounced, 1);
  EXPECT_EQ(d9.campaigns.complained, 1);
  EXPECT_EQ(d9.campaigns.unsubscribed, 1);
  EXPECT_EQ(d9.messages.unsubscribed, 0);

  // One campaign: its rows only, no single messages.
  auto one = service_->ForSite(site_, {"2026-03-07", "2026-03-09", c});
  EXPECT_EQ(one.days[0].messages.queued, 0);
  EXPECT_EQ(one.days[1].campaigns.queued, 4);
  EXPECT_EQ(one.days[2].campaigns.sent, 2);
  EXPECT_EQ(one.days[2].messages.bounced, 0);
  auto same = service_->ForCampaign(site_, c, {std::nullopt, std::nullopt, std::nullopt});
  EXPECT_EQ(same.range.from.Text(), "2026-03-07") << "from the campaign's creation";
  EXPECT_EQ(same.range.to.Text(), "2026-03-10") << "to today";
  EXPECT_EQ(same.days[2].campaigns.sent, 2);
  EXPECT_EQ(same.range.campaign_id, c);
}

TEST_P(MailStatsTest, TenancyAndBounds) {
  const auto c = Campaign(site_, now_, now_, std::nullopt);
  EXPECT_EQ(Status([&] { service_->ForCampaign(other_, c, {}); }), 404);
  EXPECT_EQ(Status([&] { service_->ForSite(other_, {std::nullopt, std::nullopt, c}); }), 404);
  EXPECT_EQ(Status([&] { service_->ForSite(site_, {"2026-03-10", "2026-03-09", {}}); }), 400);
  EXPECT_EQ(Status([&] { service_->ForSite(site_, {"2025-01-01", "2026-01-02", {}}); }), 400);
  EXPECT_EQ(Status([&] { service_->ForSite(site_, {"2025-01-01", "2026-01-01", {}}); }), 0) << "366 days";
  EXPECT_EQ(Status([&] { service_->ForSite(site_, {"2026-02-30", {}, {}}); }), 400);
  auto defaults = service_->ForSite(site_, {});
  EXPECT_EQ(defaults.days.size(), 30u);
  EXPECT_EQ(defaults.range.to.Text(), "2026-03-10");
}

POSTE_INSTANTIATE_DB_TEST(MailStatsTest);

}  // namespace
}  // namespace poste::mail
