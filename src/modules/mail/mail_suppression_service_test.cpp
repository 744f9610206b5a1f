#include "modules/mail/mail_suppression_service.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "modules/mail/mail_template_test_support.hpp"

namespace poste::mail {
namespace {

using testing::ErrorStatus;
using testing::FieldCodes;
using Strings = std::vector<std::string>;

TEST(MailSuppressionAddress, NormalisesDomainsAndKeepsTheLocalPart) {
  EXPECT_EQ(SuppressionAddress("  Bob.Smith@EXAMPLE.Com "), "Bob.Smith@example.com");
  EXPECT_EQ(SuppressionAddress("user@Bücher.example"), "user@xn--bcher-kva.example");
  EXPECT_EQ(SuppressionAddress("user@BÜCHER.example"), "user@xn--bcher-kva.example");
  EXPECT_EQ(SuppressionAddress("user@xn--BCHER-kva.example"), "user@xn--bcher-kva.example");
  for (const char* bad : {"", "nobody", "a@b", "a@example.com\r\nBcc: x@y.z", "a b@example.com", "\"q\"@example.com",
                          "a@example.com>", "a@\xC3\x28.com", "<a@example.com>"}) {
    EXPECT_FALSE(SuppressionAddress(bad)) << bad;
  }
}

TEST(MailSuppressionReason, RanksAPersonsRefusalAboveTechnicalReasons) {
  using R = SuppressionReason;
  EXPECT_TRUE(Outranks(R::kComplaint, R::kUnsubscribe));
  EXPECT_TRUE(Outranks(R::kUnsubscribe, R::kHardBounce));
  EXPECT_TRUE(Outranks(R::kHardBounce, R::kManual));
  EXPECT_FALSE(Outranks(R::kHardBounce, R::kUnsubscribe));
  EXPECT_FALSE(Outranks(R::kManual, R::kManual));
  for (auto r : {R::kManual, R::kHardBounce, R::kUnsubscribe, R::kComplaint}) EXPECT_EQ(ParseReason(ReasonName(r)), r);
  EXPECT_FALSE(ParseReason("soft_bounce"));
  EXPECT_FALSE(ParseReason("Manual"));
}

class MailSuppressionServiceTest : public testing::MailDbTest {
 protected:
  void SetUp() override {
    MailDbTest::SetUp();
    service_ = std::make_unique<MailSuppressionsService>(db(), [this] { return now_; });
  }
  MailSuppressionsService& svc() { return *service_; }
  std::unique_ptr<MailSuppressionsService> service_;
};

TEST_P(MailSuppressionServiceTest, LooksUpAnAddressHoweverItIsWritten) {
  EXPECT_FALSE(svc().IsSuppressed(site_a_, "zoe@bücher.example"));
  auto r = svc().Suppress(site_a_, " zoe@BÜCHER.example", SuppressionReason::kHardBounce,
                          {"dsn", "550 5.1.1 no such user", std::nullopt, std::nullopt});
  EXPECT_EQ(r.outcome, SuppressOutcome::kAdded);
  EXPECT_EQ(r.entry.email, "zoe@xn--bcher-kva.example");
  EXPECT_EQ(r.entry.source, "dsn");
  EXPECT_EQ(r.entry.detail, "550 5.1.1 no such user");
  EXPECT_EQ(r.entry.created_at, now_);
  EXPECT_TRUE(svc().IsSuppressed(site_a_, "zoe@bücher.example"));
  EXPECT_TRUE(svc().IsSuppressed(site_a_, "zoe@xn--bcher-kva.EXAMPLE"));
  EXPECT_FALSE(svc().IsSuppressed(site_a_, "Zoe@bücher.example"));  // the local part is the server's to compare
  EXPECT_FALSE(svc().IsSuppressed(site_b_, "zoe@bücher.example"));  // per site
  EXPECT_FALSE(svc().IsSuppressed(site_a_, "not an address"));
  EXPECT_EQ(svc().SuppressedAmong(site_a_, {"a@example.com", "ZOE@bücher.example", "zoe@Bücher.example", "bad",
                                            "zoe@xn--bcher-kva.example"}),
            (Strings{"zoe@Bücher.example", "zoe@xn--bcher-kva.example"}));
  EXPECT_TRUE(svc().SuppressedAmong(site_b_, {"zoe@bücher.example"}).empty());
  EXPECT_TRUE(svc().SuppressedAmong(site_a_, {}).empty());
  int status = 0;
  EXPECT_EQ(FieldCodes(
                [&] { svc().Suppress(site_a_, "x@example.com\r\nBcc: y@example.com", SuppressionReason::kManual, {}); },
                &status),
            Strings{"email:invalid_email"});
  EXPECT_EQ(status, 422);
}

TEST_P(MailSuppressionServiceTest, ManyAddressesAreCheckedInBatches) {
  std::vector<std::string> batch;
  for (int i = 0; i < 1200; ++i) batch.push_back("r" + std::to_string(i) + "@example.com");
  for (int i : {0, 499, 500, 1199}) {
    svc().Suppress(site_a_, batch[i], SuppressionReason::kUnsubscribe, {"one_click", "", 7, std::nullopt});
  }
  EXPECT_EQ(svc().SuppressedAmong(site_a_, batch),
            (Strings{"r0@example.com", "r499@example.com", "r500@example.com", "r1199@example.com"}));
}

TEST_P(MailSuppressionServiceTest, ReportsAreIdempotentAndOnlyUpgrade) {
  using R = SuppressionReason;
  auto first = svc().Suppress(site_a_, "p@example.com", R::kManual, {"api", "asked by phone", {}, user_a_});
  EXPECT_EQ(first.outcome, SuppressOutcome::kAdded);
  now_ += 10;
  auto bounce = svc().Suppress(site_a_, "p@example.com", R::kHardBounce, {"dsn", "550 gone", std::nullopt, {}});
  EXPECT_EQ(bounce.outcome, SuppressOutcome::kUpgraded);
  EXPECT_EQ(bounce.entry.id, first.entry.id);
  EXPECT_EQ(bounce.entry.reason, R::kHardBounce);
  EXPECT_EQ(bounce.entry.detail, "550 gone");
  EXPECT_EQ(bounce.entry.created_at, now_ - 10);
  EXPECT_EQ(bounce.entry.updated_at, now_);
  auto unsub = svc().Suppress(site_a_, "p@example.com", R::kUnsubscribe, {"one_click", "", 42, {}});
  EXPECT_EQ(unsub.outcome, SuppressOutcome::kUpgraded);
  EXPECT_EQ(unsub.entry.campaign_id, 42);
  // A later bounce or manual entry does not hide the person's own refusal.
  for (auto weaker : {R::kHardBounce, R::kManual, R::kUnsubscribe}) {
    // "P@..." keeps its local part: another address.
    EXPECT_NE(svc().Suppress(site_a_, "P@EXAMPLE.COM", weaker, {"x", "y", 1, {}}).entry.id, first.entry.id);
    auto same = svc().Suppress(site_a_, "p@EXAMPLE.COM", weaker, {"x", "y", 1, {}});
    EXPECT_EQ(same.outcome, SuppressOutcome::kUnchanged);
    EXPECT_EQ(same.entry.reason, R::kUnsubscribe);
    EXPECT_EQ(same.entry.campaign_id, 42);
  }
  auto complaint = svc().Suppress(site_a_, "p@example.com", R::kComplaint, {"ses", "abuse", std::nullopt, {}});
  EXPECT_EQ(complaint.outcome, SuppressOutcome::kUpgraded);
  EXPECT_EQ(complaint.entry.reason, R::kComplaint);
  EXPECT_EQ(svc().Suppress(site_a_, "p@example.com", R::kComplaint, {}).outcome, SuppressOutcome::kUnchanged);
  // Reports are cut, not refused: a bounce's diagnostic may be long.
  auto cut = svc().Suppress(site_a_, "long@example.com", R::kHardBounce,
                            {std::string(100, 's'), std::string(kMaxSuppressionDetailBytes - 1, 'd') + "é", {}, {}});
  EXPECT_EQ(cut.entry.source.size(), kMaxSuppressionSourceBytes);
  EXPECT_EQ(cut.entry.detail, std::string(kMaxSuppressionDetailBytes - 1, 'd'));
  EXPECT_TRUE(AuditActions().empty());  // automatic reports are not audited: the entry says where they came from
}

TEST_P(MailSuppressionServiceTest, ManualEntriesListsAndRemovals) {
  auto added = svc().AddManual(origin_, site_a_, "Ann@Example.com", "asked at the desk");
  EXPECT_EQ(added.outcome, SuppressOutcome::kAdded);
  EXPECT_EQ(added.entry.reason, SuppressionReason::kManual);
  EXPECT_EQ(added.entry.source, "api");
  EXPECT_EQ(added.entry.detail, "asked at the desk");
  EXPECT_EQ(added.entry.created_by, user_a_);
  EXPECT_EQ(svc().AddManual(origin_, site_a_, "ann@example.com", "").outcome, SuppressOutcome::kAdded);
  EXPECT_EQ(svc().AddManual(origin_, site_a_, "Ann@example.com", "again").outcome, SuppressOutcome::kUnchanged);
  svc().Suppress(site_a_, "bounced@example.com", SuppressionReason::kHardBounce, {"dsn", "", {}, {}});
  svc().Suppress(site_b_, "other@example.com", SuppressionReason::kComplaint, {"ses", "", {}, {}});

  auto all = svc().List(site_a_, {});
  ASSERT_EQ(all.items.size(), 3u);
  EXPECT_EQ(all.items[0].email, "bounced@example.com");  // newest first
  SuppressionFilter manual;
  manual.reason = SuppressionReason::kManual;
  EXPECT_EQ(svc().List(site_a_, manual).items.size(), 2u);
  SuppressionFilter search;
  search.q = "ANN@";
  EXPECT_EQ(svc().List(site_a_, search).items.size(), 2u);
  search.q = "%";
  EXPECT_TRUE(svc().List(site_a_, search).items.empty());  // LIKE wildcards are literal
  SuppressionFilter page;
  page.limit = 2;
  auto first = svc().List(site_a_, page);
  ASSERT_TRUE(first.next_cursor);
  page.cursor = first.next_cursor;
  EXPECT_EQ(svc().List(site_a_, page).items.size(), 1u);

  EXPECT_EQ(svc().Get(site_a_, std::to_string(added.entry.id)).email, "Ann@example.com");
  EXPECT_EQ(svc().Get(site_a_, " Ann@EXAMPLE.com").id, added.entry.id);
  EXPECT_EQ(ErrorStatus([&] { svc().Get(site_b_, std::to_string(added.entry.id)); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Get(site_a_, "nobody@example.com"); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Get(site_a_, "garbage\r\n"); }), 404);

  EXPECT_EQ(ErrorStatus([&] { svc().Remove(origin_, site_b_, std::to_string(added.entry.id)); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Remove(origin_, site_a_, "BOUNCED@example.com"); }), 404);  // another local part
  EXPECT_TRUE(svc().IsSuppressed(site_a_, "Ann@example.com"));
}

TEST_P(MailSuppressionServiceTest, RemovalsAreAuditedAndRefuseUnknownEntries) {
  auto added = svc().AddManual(origin_, site_a_, "ann@example.com", "");
  svc().Suppress(site_a_, "bounced@example.com", SuppressionReason::kHardBounce, {"dsn", "", {}, {}});
  svc().Remove(origin_, site_a_, std::to_string(added.entry.id));
  svc().Remove(origin_, site_a_, "bounced@EXAMPLE.com");
  EXPECT_FALSE(svc().IsSuppressed(site_a_, "ann@example.com"));
  EXPECT_FALSE(svc().IsSuppressed(site_a_, "bounced@example.com"));
  EXPECT_EQ(ErrorStatus([&] { svc().Remove(origin_, site_a_, "bounced@example.com"); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Remove(origin_, site_a_, "0"); }), 404);
  EXPECT_EQ(ErrorStatus([&] { svc().Remove(origin_, site_a_, "'; DELETE FROM mail_suppressions; --"); }), 404);
  EXPECT_EQ(AuditActions(), (Strings{"mail_suppression.add", "mail_suppression.remove", "mail_suppression.remove"}));
  // An address removed may be listed again.
  EXPECT_EQ(svc().Suppress(site_a_, "bounced@example.com", SuppressionReason::kHardBounce, {}).outcome,
            SuppressOutcome::kAdded);
}

TEST_P(MailSuppressionServiceTest, ManualEntriesRefuseBadInput) {
  EXPECT_EQ(FieldCodes([&] { svc().AddManual(origin_, site_a_, "a@example.com\nBcc: b@example.com", "n"); }),
            Strings{"email:invalid_email"});
  EXPECT_EQ(FieldCodes([&] { svc().AddManual(origin_, site_a_, "", std::string(1001, 'n')); }),
            (Strings{"email:invalid_email", "note:too_long"}));
  EXPECT_EQ(FieldCodes([&] { svc().AddManual(origin_, site_a_, "a@example.com", "\xC3\x28"); }),
            Strings{"note:invalid_utf8"});
  EXPECT_EQ(FieldCodes([&] { svc().AddManual(origin_, site_a_, "a@example.com", std::string("\0", 1)); }),
            Strings{"note:invalid_characters"});
  EXPECT_NO_THROW(svc().AddManual(origin_, site_a_, "a@example.com", "line one\nline two"));
  EXPECT_TRUE(svc().List(site_a_, {}).items.size() == 1u);
}

POSTE_INSTANTIATE_DB_TEST(MailSuppressionServiceTest);

}  // namespace
}  // namespace poste::mail
