// The campaign store's writes on the sending path, on SQLite and PostgreSQL: each is scoped by site (a row
// of another site's campaign is never claimed, marked or released), a sent mark needs the row still claimed
// by the job (a lost claim is seen), SentMarker keeps its statement across transactions, and the outcome
// of a sent row writes only what the mark did not (its provider id).
#include "modules/mail/campaign_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "modules/mail/mail_template_test_support.hpp"

namespace poste::mail {
namespace {

class CampaignStoreTest : public testing::MailDbTest {
 protected:
  void SetUp() override {
    MailDbTest::SetUp();
    campaign_ = db().WriteValue([&](soci::session& s) {
      Campaign c;
      c.site_id = site_a_;
      c.name = "Spring";
      c.created_at = c.updated_at = 1;
      const auto id = campaign_store::InsertCampaign(s, c);
      std::vector<CsvRecipient> rows;
      for (int i = 0; i < 3; ++i) {
        CsvRecipient r;
        r.line = static_cast<std::size_t>(i + 2);
        r.mailbox = {"", "reader" + std::to_string(i) + "@example.org"};
        rows.push_back(r);
      }
      campaign_store::InsertRecipients(s, site_a_, id, rows);
      return id;
    });
  }

  std::vector<CampaignRecipient> Claim(std::int64_t site, std::int64_t job) {
    db().Write([&](soci::session& s) { campaign_store::Claim(s, site, campaign_, job, 10, 5, 0, "alpha.example"); });
    return db().ReadValue(
        [&](soci::session& s) { return campaign_store::ClaimedRows(s, site, campaign_, job, 0, 10); });
  }
  CampaignRecipient Row(std::int64_t id) {
    return *db().ReadValue([&](soci::session& s) { return campaign_store::GetRecipient(s, site_a_, campaign_, id); });
  }

  std::int64_t campaign_ = 0;
};

TEST_P(CampaignStoreTest, AnotherSitesIdClaimsMarksAndReleasesNothing) {
  EXPECT_TRUE(Claim(site_b_, 7).empty());
  const auto rows = Claim(site_a_, 7);
  ASSERT_EQ(rows.size(), 3u);
  const auto id = rows[0].id;
  db().Write([&](soci::session& s) {
    EXPECT_FALSE(campaign_store::MarkSent(s, site_b_, id, 7, 9));
    campaign_store::ReleaseClaims(s, site_b_, campaign_, 7);
    campaign_store::ReleaseAllClaims(s, site_b_, campaign_);
    campaign_store::DeleteRecipients(s, site_b_, campaign_);
  });
  EXPECT_EQ(Row(id).state, RecipientState::kClaimed);
  EXPECT_EQ(
      db().ReadValue([&](soci::session& s) { return campaign_store::CountRecipients(s, site_a_, campaign_).total; }),
      3);
  EXPECT_EQ(
      db().ReadValue([&](soci::session& s) { return campaign_store::CountRecipients(s, site_b_, campaign_).total; }),
      0);
  db().Write([&](soci::session& s) { campaign_store::ReleaseClaims(s, site_a_, campaign_, 7); });
  EXPECT_EQ(Row(id).state, RecipientState::kPending);
}

TEST_P(CampaignStoreTest, ASentMarkNeedsTheJobsClaimAndCountsTheAttempt) {
  const auto rows = Claim(site_a_, 7);
  ASSERT_EQ(rows.size(), 3u);
  campaign_store::SentMarker marker;
  std::vector<campaign_store::SentMark> marks = {{site_a_, rows[0].id, 7, 11}, {site_a_, rows[1].id, 8, 11}};
  db().Write([&](soci::session& s) { marker.Mark(s, {&marks[0], &marks[1]}); });
  EXPECT_TRUE(marks[0].recorded);
  EXPECT_FALSE(marks[1].recorded);  // claimed by job 7, not 8
  // The same marker in a later transaction (SQLite: its statement kept): an already sent row is not marked
  // again, a claimed one is.
  std::vector<campaign_store::SentMark> again = {{site_a_, rows[0].id, 7, 12}, {site_a_, rows[2].id, 7, 12}};
  db().Write([&](soci::session& s) { marker.Mark(s, {&again[0], &again[1]}); });
  EXPECT_FALSE(again[0].recorded);
  EXPECT_TRUE(again[1].recorded);

  const auto sent = Row(rows[0].id);
  EXPECT_EQ(sent.state, RecipientState::kSent);
  EXPECT_EQ(sent.message_id, "c" + std::to_string(campaign_) + "." + std::to_string(rows[0].id) + "@alpha.example");
  EXPECT_EQ(sent.sent_at, std::optional<std::int64_t>(11));
  EXPECT_EQ(sent.attempts, 1);
  EXPECT_EQ(Row(rows[1].id).state, RecipientState::kClaimed);
}

TEST_P(CampaignStoreTest, TheOutcomeOfASentRowWritesOnlyItsProviderId) {
  const auto rows = Claim(site_a_, 7);
  ASSERT_EQ(rows.size(), 3u);
  db().Write([&](soci::session& s) {
    ASSERT_TRUE(campaign_store::MarkSent(s, site_a_, rows[0].id, 7, 11));
    ASSERT_TRUE(campaign_store::MarkSent(s, site_a_, rows[1].id, 7, 11));
  });
  auto with_id = rows[0], without = rows[1], failed = rows[2];
  with_id.state = without.state = RecipientState::kSent;
  with_id.attempts = without.attempts = 1;
  with_id.provider_id = "Q42";
  failed.state = RecipientState::kPending;
  failed.attempts = 1;
  failed.last_error = "451 try later";
  db().Write([&](soci::session& s) {
    campaign_store::RecordOutcomes(s, {{with_id, std::nullopt}, {without, std::nullopt}, {failed, 99}}, 7);
  });
  EXPECT_EQ(Row(rows[0].id).provider_id, "Q42");
  EXPECT_EQ(Row(rows[0].id).attempts, 1);
  EXPECT_EQ(Row(rows[1].id).state, RecipientState::kSent);
  EXPECT_EQ(Row(rows[1].id).attempts, 1);
  EXPECT_EQ(Row(rows[2].id).state, RecipientState::kPending);
  EXPECT_EQ(Row(rows[2].id).last_error, "451 try later");
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return campaign_store::NextRetryAt(s, site_a_, campaign_); }),
            std::optional<std::int64_t>(99));
}

TEST_P(CampaignStoreTest, AClaimAfterAnIdTakesLaterRowsAndGivesEachItsMessageIdOnce) {
  const auto claim = [&](int limit, std::int64_t after, const std::string& domain) {
    db().Write([&](soci::session& s) { campaign_store::Claim(s, site_a_, campaign_, 7, limit, 5, after, domain); });
    return db().ReadValue(
        [&](soci::session& s) { return campaign_store::ClaimedRows(s, site_a_, campaign_, 7, after, limit); });
  };
  const auto first = claim(1, 0, "alpha.example");
  ASSERT_EQ(first.size(), 1u);
  const auto id_of = [&](std::int64_t row) {
    return "c" + std::to_string(campaign_) + "." + std::to_string(row) + "@alpha.example";
  };
  EXPECT_EQ(first[0].message_id, id_of(first[0].id));
  // The job claims again while it sends the first row: it gets the two after it, not the first again.
  const auto next = claim(10, first[0].id, "alpha.example");
  ASSERT_EQ(next.size(), 2u);
  EXPECT_GT(next[0].id, first[0].id);
  EXPECT_EQ(next[1].message_id, id_of(next[1].id));
  // Released and claimed again, by then from another domain: a row keeps the id of its first try.
  db().Write([&](soci::session& s) { campaign_store::ReleaseClaims(s, site_a_, campaign_, 7); });
  const auto again = claim(10, 0, "beta.example");
  ASSERT_EQ(again.size(), 3u);
  for (const auto& r : again) EXPECT_EQ(r.message_id, id_of(r.id));
}

POSTE_INSTANTIATE_DB_TEST(CampaignStoreTest);

}  // namespace
}  // namespace poste::mail
