// Sending stats through the whole app (issue 5, "messages"), on SQLite and PostgreSQL: a message sent over
// the API (its mail.send job run here, as the app's workers would) is counted on today's local day; rows of
// single messages, a campaign, bounces and unsubscribes are folded into the days of the site's time zone
// (Asia/Kathmandu, UTC+05:45: a day starts at 18:15 UTC); a campaign's own stats; bad ranges are 400s and
// another site's campaign a 404.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>
#include <string>

#include "jobs/job_queue.hpp"
#include "lib/crypto/secret_box.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_message_service.hpp"
#include "modules/mail/mail_message_time.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

std::int64_t Utc(int y, int m, int d, int h, int mi) { return mail::CivilToEpoch(y, m, d, h, mi, 0) * 1000; }

class MailStatsApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override { data_dir_ = config.data.dir; }

  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    queue_ = std::make_unique<jobs::JobQueue>(db());
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(master_key_));
    mail::AccountsOptions accounts;
    accounts.transports.outbox_root = data_dir_ + "/mail/outbox";
    accounts.outbox_from = [](std::int64_t) { return mail::Mailbox{"Alpha", "hello@alpha.example"}; };
    accounts_ = std::make_unique<mail::MailAccountsService>(db(), *box_, std::move(accounts));
    service_ = std::make_unique<mail::MailMessagesService>(db(), *queue_, *accounts_);
    auto zone = Call("PATCH", "/api/v1/sites/alpha", callers_[kAdmin], R"({"timezone":"Asia/Kathmandu"})");
    ASSERT_EQ(zone.status, 200) << zone.body;
  }

  int RunJobs() {
    int ran = 0;
    while (auto job = queue_->Claim("test", 60'000, {std::string(mail::kSendJobKind)})) {
      ++ran;
      service_->HandleSend(*job);
      queue_->Complete(job->id, "test");
    }
    return ran;
  }
  nlohmann::json Stats(const std::string& query, Caller who = kEditorA, int status = 200) {
    auto r = Call("GET", "/api/v1/sites/alpha/mail/" + query, callers_[who]);
    EXPECT_EQ(r.status, status) << query << ": " << r.body;
    return nlohmann::json::parse(r.body);
  }
  void Sql(const std::string& sql) {
    db().Write([&](soci::session& s) { s << sql; });
  }
  std::int64_t Campaign(std::int64_t site, std::int64_t created, std::int64_t started) {
    return db().WriteValue([&](soci::session& s) {
      const long long site_id = site, c = created, st = started;
      long long id = 0;
      s << "INSERT INTO mail_campaigns (site_id, name, state, created_at, updated_at, started_at, finished_at)"
           " VALUES (:site, 'c', 'finished', :c, :c2, :st, :fi) RETURNING id",
          soci::use(site_id), soci::use(c), soci::use(c), soci::use(st), soci::use(st), soci::into(id);
      return static_cast<std::int64_t>(id);
    });
  }

  std::string data_dir_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<mail::MailAccountsService> accounts_;
  std::unique_ptr<mail::MailMessagesService> service_;
};

TEST_P(MailStatsApi, AMessageSentNowCountsToday) {
  auto sent = Call("POST", "/api/v1/sites/alpha/mail/messages", callers_[kEditorA],
                   R"({"to":["ada@example.com"],"subject":"Hello","text":"Hi"})");
  ASSERT_EQ(sent.status, 202) << sent.body;
  EXPECT_EQ(RunJobs(), 1);
  auto stats = Stats("stats");
  EXPECT_EQ(stats["timezone"], "Asia/Kathmandu");
  ASSERT_EQ(stats["days"].size(), 30u);
  const auto& today = stats["days"].back();
  EXPECT_EQ(today["date"], stats["to"]);
  EXPECT_EQ(today["queued"], 1);
  EXPECT_EQ(today["sent"], 1);
  EXPECT_EQ(today["messages"]["sent"], 1);
  EXPECT_EQ(today["campaigns"]["sent"], 0);
  EXPECT_EQ(stats["totals"]["sent"], 1);
  EXPECT_EQ(Stats("stats", kAdmin)["totals"]["sent"], 1);
  auto beta = Call("GET", "/api/v1/sites/beta/mail/stats", callers_[kAdmin]);
  EXPECT_EQ(nlohmann::json::parse(beta.body)["totals"]["sent"], 0) << "another site's messages";
}

TEST_P(MailStatsApi, RowsFoldIntoTheSitesLocalDays) {
  const auto a = std::to_string(site_a_), b = std::to_string(site_b_);
  const auto before = std::to_string(Utc(2026, 6, 1, 18, 14));  // 23:59 in Kathmandu, June 1st
  const auto after = std::to_string(Utc(2026, 6, 1, 18, 15));   // 00:00 in Kathmandu, June 2nd
  Sql("INSERT INTO mail_messages (site_id, state, request, message_id, created_at, updated_at, sent_at) VALUES (" + a +
      ", 'sent', '{}', '<a@x>', " + before + ", " + after + ", " + after + ")");
  Sql("INSERT INTO mail_messages (site_id, state, request, message_id, created_at, updated_at) VALUES (" + a +
      ", 'failed', '{}', '<b@x>', " + after + ", " + after + ")");
  Sql("INSERT INTO mail_messages (site_id, state, request, message_id, created_at, updated_at, sent_at) VALUES (" + b +
      ", 'sent', '{}', '<c@x>', " + after + ", " + after + ", " + after + ")");
  const auto c = Campaign(site_a_, Utc(2026, 6, 1, 12, 0), Utc(2026, 6, 1, 12, 0));
  const auto cid = std::to_string(c);
  for (int i = 0; i < 3; ++i) {
    const std::string email = "'r" + std::to_string(i) + "@example.com'";
    Sql("INSERT INTO mail_campaign_recipients (campaign_id, site_id, email, email_key, state, sent_at) VALUES (" + cid +
        ", " + a + ", " + email + ", " + email + ", 'sent', " + after + ")");
  }
  Sql("INSERT INTO mail_bounces (site_id, email, kind, source, campaign_id, dedupe_key, occurred_at, created_at)"
      " VALUES (" +
      a + ", 'r0@example.com', 'hard', 'dsn', " + cid + ", 'k1', " + after + ", " + after + ")");
  Sql("INSERT INTO mail_suppressions (site_id, email, reason, campaign_id, created_at, updated_at) VALUES (" + a +
      ", 'r1@example.com', 'unsubscribe', " + cid + ", " + after + ", " + after + ")");

  auto stats = Stats("stats?from=2026-06-01&to=2026-06-02");
  ASSERT_EQ(stats["days"].size(), 2u);
  const auto& june1 = stats["days"][0];
  const auto& june2 = stats["days"][1];
  EXPECT_EQ(june1["date"], "2026-06-01");
  EXPECT_EQ(june1["messages"]["queued"], 1);
  EXPECT_EQ(june1["campaigns"]["queued"], 3) << "the campaign started at 17:45 local";
  EXPECT_EQ(june2["messages"]["sent"], 1);
  EXPECT_EQ(june2["messages"]["queued"], 1);
  EXPECT_EQ(june2["messages"]["failed"], 1);
  EXPECT_EQ(june2["campaigns"]["sent"], 3);
  EXPECT_EQ(june2["campaigns"]["bounced"], 1);
  EXPECT_EQ(june2["campaigns"]["unsubscribed"], 1);
  EXPECT_EQ(june2["sent"], 4);
  EXPECT_EQ(stats["totals"]["queued"], 5);

  auto campaign = Stats("campaigns/" + cid + "/stats?to=2026-06-02");
  EXPECT_EQ(campaign["from"], "2026-06-01") << "from the day the campaign was created";
  EXPECT_EQ(campaign["campaign_id"], c);
  EXPECT_EQ(campaign["totals"]["sent"], 3);
  EXPECT_EQ(campaign["totals"]["messages"]["sent"], 0);
  EXPECT_EQ(Stats("stats?from=2026-06-01&to=2026-06-02&campaign_id=" + cid)["totals"], campaign["totals"]);
}

TEST_P(MailStatsApi, BadQueriesAndOtherSites) {
  const auto c = std::to_string(Campaign(site_b_, 1, 1));
  for (const char* bad : {"stats?from=2026-02-30", "stats?to=yesterday", "stats?from=2026-03-02&to=2026-03-01",
                          "stats?from=2025-01-01&to=2026-01-02", "stats?campaign_id=0", "stats?campaign_id=x",
                          "stats?from=2026-01-01%0D%0A", "stats?from=%27%3B%20DROP%20TABLE%20x"}) {
    auto r = Stats(bad, kEditorA, 400);
    EXPECT_EQ(r["status"], 400) << bad;
  }
  Stats("stats?campaign_id=" + c, kEditorA, 404);
  Stats("campaigns/" + c + "/stats", kAdmin, 404);
  Stats("campaigns/999999/stats", kAdmin, 404);
  EXPECT_EQ(Stats("stats?from=2025-01-01&to=2026-01-01")["days"].size(), 366u);
}

POSTE_INSTANTIATE_DB_TEST(MailStatsApi);

}  // namespace
}  // namespace poste::testing
