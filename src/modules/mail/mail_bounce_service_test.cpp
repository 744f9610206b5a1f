#include "modules/mail/mail_bounce_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "jobs/job_queue.hpp"
#include "lib/mail/mime_parse.hpp"
#include "modules/mail/campaign_store.hpp"
#include "modules/mail/mail_bounce_store.hpp"
#include "modules/mail/mail_suppression_service.hpp"
#include "modules/mail/mail_template_test_support.hpp"

namespace poste::mail {
namespace {

using testing::FieldCodes;

const char* kDsn =
    "From: MAILER-DAEMON@mx.example.org (Mail Delivery System)\n"
    "To: bounces@alpha.example\n"
    "Subject: Undelivered Mail Returned to Sender\n"
    "Message-ID: <bounce-1@mx.example.org>\n"
    "Date: Tue, 14 Nov 2023 22:13:20 +0000\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n"
    "\n"
    "--b1\n"
    "Content-Type: text/plain\n"
    "\n"
    "Your message could not be delivered.\n"
    "--b1\n"
    "Content-Type: message/delivery-status\n"
    "\n"
    "Reporting-MTA: dns; mx.example.org\n"
    "\n"
    "Final-Recipient: rfc822; gone@example.org\n"
    "Action: failed\n"
    "Status: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 user unknown\n"
    "\n"
    "Final-Recipient: rfc822; later@example.org\n"
    "Action: delayed\n"
    "Status: 4.2.2\n"
    "Diagnostic-Code: smtp; 452 4.2.2 mailbox full\n"
    "\n"
    "--b1\n"
    "Content-Type: text/rfc822-headers\n"
    "\n"
    "Message-ID: <sent-42@alpha.example>\n"
    "Subject: Newsletter\n"
    "\n"
    "--b1--\n";

class MailBounceServiceTest : public testing::MailDbTest {
 protected:
  void SetUp() override {
    MailDbTest::SetUp();
    queue_ = std::make_unique<jobs::JobQueue>(db(), [this] { return now_; });
    suppressions_ = std::make_unique<MailSuppressionsService>(db(), [this] { return now_; });
    BounceOptions options;
    options.now_ms = [this] { return now_; };
    options.inbox_account_site = [this](const web::Principal&, std::int64_t id) -> std::optional<std::int64_t> {
      if (id == inbox_a_) return site_a_;
      if (id == inbox_b_) return site_b_;
      return std::nullopt;
    };
    service_ = std::make_unique<MailBouncesService>(db(), *queue_, *suppressions_, std::move(options));
    inbox_a_ = AddInboxAccount(site_a_);
    inbox_b_ = AddInboxAccount(site_b_);
  }

  std::int64_t AddInboxAccount(std::int64_t site) {
    return db().WriteValue([&](soci::session& s) {
      const long long site_id = site;
      long long id = 0;
      s << "INSERT INTO inbox_accounts (site_id, name, host, port, tls, username, created_at, updated_at)"
           " VALUES (:s, 'Bounces', '127.0.0.1', 143, 'none', 'u', 1, 1) RETURNING id",
          soci::use(site_id), soci::into(id);
      return static_cast<std::int64_t>(id);
    });
  }

  std::int64_t AddMessage(std::int64_t site, const std::string& header_id, const std::string& provider_id) {
    return db().WriteValue([&](soci::session& s) {
      const long long site_id = site;
      long long id = 0;
      s << "INSERT INTO mail_messages (site_id, request, message_id, provider_message_id, created_at, updated_at)"
           " VALUES (:s, '{}', :m, :p, 1, 1) RETURNING id",
          soci::use(site_id), soci::use(header_id), soci::use(provider_id), soci::into(id);
      return static_cast<std::int64_t>(id);
    });
  }

  // A campaign of the site with one recipient sent as `header_id` / `provider_id`: {campaign, recipient}.
  std::pair<std::int64_t, std::int64_t> AddCampaignRecipient(std::int64_t site, const std::string& email,
                                                             const std::string& header_id,
                                                             const std::string& provider_id) {
    return db().WriteValue([&](soci::session& s) {
      Campaign c;
      c.site_id = site;
      c.name = "C " + email;
      c.created_at = c.updated_at = 1;
      const auto campaign = campaign_store::InsertCampaign(s, c);
      CsvRecipient r;
      r.line = 2;
      r.mailbox = {"", email};
      campaign_store::InsertRecipients(s, site, campaign, {r});
      const long long cid = campaign;
      long long rid = 0;
      s << "UPDATE mail_campaign_recipients SET message_id = :m, provider_id = :p WHERE campaign_id = :c RETURNING id",
          soci::use(header_id), soci::use(provider_id), soci::use(cid), soci::into(rid);
      return std::make_pair(campaign, static_cast<std::int64_t>(rid));
    });
  }

  // The data of the email.bounced events queued, oldest first.
  std::vector<nlohmann::json> Events() {
    return db().ReadValue([&](soci::session& s) {
      std::vector<nlohmann::json> out;
      soci::rowset<std::string> rows =
          (s.prepare << "SELECT payload FROM jobs WHERE kind = 'webhook.event' ORDER BY id");
      for (const auto& p : rows) {
        auto j = nlohmann::json::parse(p);
        if (j.value("type", "") == "email.bounced") out.push_back(j);
      }
      return out;
    });
  }

  BounceReport Report(const std::string& email, BounceKind kind, const std::string& key) {
    BounceReport r;
    r.email = email;
    r.kind = kind;
    r.source = "sendgrid";
    r.status = "5.1.1";
    r.detail = "550 no such user";
    r.dedupe_key = key;
    r.occurred_at = 1'699'000'000'000;
    return r;
  }

  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<MailSuppressionsService> suppressions_;
  std::unique_ptr<MailBouncesService> service_;
  std::int64_t inbox_a_ = 0, inbox_b_ = 0;
};

TEST_P(MailBounceServiceTest, AHardBounceIsRecordedMatchedSuppressedAndAnnounced) {
  const auto message = AddMessage(site_a_, "<m1@alpha.example>", "sg-1");
  auto r = Report(" Ada@Example.COM ", BounceKind::kHard, "k1");
  r.header_message_id = "m1@alpha.example";  // without <>: matched all the same
  auto stored = service_->Record(site_a_, r);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->email, "Ada@example.com");
  EXPECT_EQ(stored->kind, BounceKind::kHard);
  EXPECT_EQ(stored->source, "sendgrid");
  EXPECT_EQ(stored->message_id, message);
  EXPECT_FALSE(stored->campaign_id);
  EXPECT_EQ(stored->status, "5.1.1");
  EXPECT_EQ(stored->occurred_at, 1'699'000'000'000);
  EXPECT_EQ(stored->created_at, now_);
  auto entry = suppressions_->Get(site_a_, "Ada@example.com");
  EXPECT_EQ(entry.reason, SuppressionReason::kHardBounce);
  EXPECT_EQ(entry.source, "sendgrid");
  EXPECT_EQ(entry.detail, "550 no such user");
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["site_id"], site_a_);
  EXPECT_EQ(events[0]["data"]["email"], "Ada@example.com");
  EXPECT_EQ(events[0]["data"]["kind"], "hard");
  EXPECT_EQ(events[0]["data"]["message_id"], message);

  // The same report again (a webhook retried): nothing new.
  EXPECT_FALSE(service_->Record(site_a_, r));
  EXPECT_EQ(service_->List(site_a_, {}).items.size(), 1u);
  EXPECT_EQ(Events().size(), 1u);
  // The same key on another site is another site's bounce.
  EXPECT_TRUE(service_->Record(site_b_, r));
}

TEST_P(MailBounceServiceTest, MatchesCampaignRecipientsAndProviderIdsOnlyInTheSite) {
  const auto [campaign, recipient] = AddCampaignRecipient(site_a_, "bob@example.com", "<c1.2@alpha.example>", "prov-7");
  const auto other = AddMessage(site_b_, "<theirs@beta.example>", "prov-b");

  auto by_header = Report("bob@example.com", BounceKind::kHard, "a");
  by_header.header_message_id = "<c1.2@alpha.example>";
  auto stored = service_->Record(site_a_, by_header);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->campaign_id, campaign);
  EXPECT_EQ(stored->recipient_id, recipient);
  EXPECT_FALSE(stored->message_id);
  EXPECT_EQ(suppressions_->Get(site_a_, "bob@example.com").campaign_id, campaign);

  auto by_provider = Report("bob@example.com", BounceKind::kSoft, "b");
  by_provider.provider_message_id = "prov-7";
  stored = service_->Record(site_a_, by_provider);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->recipient_id, recipient);

  // Site B's message is never matched from site A, by either id.
  auto foreign = Report("carl@example.com", BounceKind::kSoft, "c");
  foreign.header_message_id = "theirs@beta.example";
  foreign.provider_message_id = "prov-b";
  stored = service_->Record(site_a_, foreign);
  ASSERT_TRUE(stored);
  EXPECT_FALSE(stored->message_id);
  EXPECT_FALSE(stored->campaign_id);
  stored = service_->Record(site_b_, foreign);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->message_id, other);

  // Lists: newest first, per site, filtered.
  auto page = service_->List(site_a_, {});
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].email, "carl@example.com");
  BounceFilter hard;
  hard.kind = BounceKind::kHard;
  EXPECT_EQ(service_->List(site_a_, hard).items.size(), 1u);
  BounceFilter of_campaign;
  of_campaign.campaign_id = campaign;
  EXPECT_EQ(service_->List(site_a_, of_campaign).items.size(), 2u);
  BounceFilter small;
  small.limit = 2;
  auto first = service_->List(site_a_, small);
  ASSERT_TRUE(first.next_cursor);
  small.cursor = first.next_cursor;
  EXPECT_EQ(service_->List(site_a_, small).items.size(), 1u);
  EXPECT_EQ(service_->List(site_b_, {}).items.size(), 1u);
}

TEST_P(MailBounceServiceTest, SoftBouncesAreOnlyRecordedComplaintsSuppress) {
  ASSERT_TRUE(service_->Record(site_a_, Report("soft@example.com", BounceKind::kSoft, "s")));
  EXPECT_FALSE(suppressions_->IsSuppressed(site_a_, "soft@example.com"));
  ASSERT_TRUE(service_->Record(site_a_, Report("angry@example.com", BounceKind::kComplaint, "c")));
  EXPECT_EQ(suppressions_->Get(site_a_, "angry@example.com").reason, SuppressionReason::kComplaint);
  // A later hard bounce does not weaken a complaint.
  ASSERT_TRUE(service_->Record(site_a_, Report("angry@example.com", BounceKind::kHard, "h")));
  EXPECT_EQ(suppressions_->Get(site_a_, "angry@example.com").reason, SuppressionReason::kComplaint);
  EXPECT_EQ(Events().size(), 3u);
}

TEST_P(MailBounceServiceTest, RefusesWhatIsNotAnAddressAndBoundsTheText) {
  EXPECT_FALSE(service_->Record(site_a_, Report("a@example.com\r\nBcc: b@example.com", BounceKind::kHard, "x")));
  EXPECT_FALSE(service_->Record(site_a_, Report("not an address", BounceKind::kHard, "y")));
  auto bad_source = Report("a@example.com", BounceKind::kHard, "z");
  bad_source.source = "elsewhere";
  EXPECT_FALSE(service_->Record(site_a_, bad_source));
  EXPECT_TRUE(service_->List(site_a_, {}).items.empty());
  auto huge = Report("a@example.com", BounceKind::kSoft, std::string(5000, 'k'));
  huge.detail = std::string(10000, 'd');
  huge.status = std::string(100, '5');
  huge.header_message_id = "x' OR '1'='1";
  auto stored = service_->Record(site_a_, huge);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->detail.size(), kMaxBounceDetailBytes);
  EXPECT_EQ(stored->status.size(), kMaxBounceStatusBytes);
  EXPECT_FALSE(service_->Record(site_a_, huge));  // the cut key still names it
}

TEST_P(MailBounceServiceTest, DsnsOfTheBounceMailboxAreRecordedOnce) {
  const auto message = AddMessage(site_a_, "<sent-42@alpha.example>", "");
  const auto dsn = ParseMessage(kDsn);
  // Not a bounce mailbox yet: nothing.
  EXPECT_EQ(service_->ProcessInboxMessage(inbox_a_, dsn), 0);
  service_->PutMailbox(origin_, {}, site_a_, inbox_a_);
  EXPECT_EQ(service_->GetMailbox(site_a_).inbox_account_id, inbox_a_);
  EXPECT_EQ(service_->ProcessInboxMessage(inbox_a_, dsn), 2);
  auto page = service_->List(site_a_, {});
  ASSERT_EQ(page.items.size(), 2u);
  const auto& soft = page.items[0];
  const auto& hard = page.items[1];
  EXPECT_EQ(hard.email, "gone@example.org");
  EXPECT_EQ(hard.kind, BounceKind::kHard);
  EXPECT_EQ(hard.source, "dsn");
  EXPECT_EQ(hard.status, "5.1.1");
  EXPECT_EQ(hard.message_id, message);
  EXPECT_EQ(hard.occurred_at, 1'700'000'000'000);  // the DSN's Date
  EXPECT_EQ(soft.email, "later@example.org");
  EXPECT_EQ(soft.kind, BounceKind::kSoft);
  EXPECT_TRUE(suppressions_->IsSuppressed(site_a_, "gone@example.org"));
  EXPECT_FALSE(suppressions_->IsSuppressed(site_a_, "later@example.org"));
  // Synced again (a new UIDVALIDITY): counted once.
  EXPECT_EQ(service_->ProcessInboxMessage(inbox_a_, dsn), 0);
  EXPECT_EQ(Events().size(), 2u);
  // Another site's inbox is not site A's bounce mailbox; a message that is no bounce records nothing.
  EXPECT_EQ(service_->ProcessInboxMessage(inbox_b_, dsn), 0);
  EXPECT_EQ(service_->ProcessInboxMessage(inbox_a_, ParseMessage("Subject: hi\n\nhello\n")), 0);
  EXPECT_EQ(service_->List(site_a_, {}).items.size(), 2u);
}

TEST_P(MailBounceServiceTest, TheBounceMailboxIsOneOfTheSitesSharedInboxes) {
  int status = 0;
  EXPECT_EQ(FieldCodes([&] { service_->PutMailbox(origin_, {}, site_a_, inbox_b_); }, &status),
            std::vector<std::string>{"inbox_account_id:invalid"});
  EXPECT_EQ(status, 422);
  EXPECT_EQ(FieldCodes([&] { service_->PutMailbox(origin_, {}, site_a_, 999999); }),
            std::vector<std::string>{"inbox_account_id:invalid"});
  EXPECT_EQ(testing::ErrorStatus([&] { service_->GetMailbox(site_a_); }), 404);
  EXPECT_EQ(testing::ErrorStatus([&] { service_->DeleteMailbox(origin_, site_a_); }), 404);
  service_->PutMailbox(origin_, {}, site_a_, inbox_a_);
  now_ += 1000;
  auto again = service_->PutMailbox(origin_, {}, site_a_, inbox_a_);
  EXPECT_EQ(again.updated_at, now_);
  service_->DeleteMailbox(origin_, site_a_);
  EXPECT_EQ(testing::ErrorStatus([&] { service_->GetMailbox(site_a_); }), 404);
  EXPECT_EQ(AuditActions(), (std::vector<std::string>{"mail_bounce_mailbox.put", "mail_bounce_mailbox.put",
                                                      "mail_bounce_mailbox.delete"}));
}

TEST(DsnReports, KeyedByTheDsnAndTheRecipient) {
  const auto dsn = ParseMessage(kDsn);
  auto a = ReportsOfDsn(dsn, 5);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_NE(a[0].dedupe_key, a[1].dedupe_key);
  EXPECT_EQ(a[0].header_message_id, "sent-42@alpha.example");
  EXPECT_EQ(a[0].source, "dsn");
  auto b = ReportsOfDsn(ParseMessage(kDsn), 99);
  EXPECT_EQ(a[0].dedupe_key, b[0].dedupe_key);
  // Without a Message-ID, the DSN is named by what it says.
  std::string no_id = kDsn;
  no_id.erase(no_id.find("Message-ID: <bounce-1"), std::string("Message-ID: <bounce-1@mx.example.org>\n").size());
  auto c = ReportsOfDsn(ParseMessage(no_id), 5);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].dedupe_key, ReportsOfDsn(ParseMessage(no_id), 7)[0].dedupe_key);
  EXPECT_NE(c[0].dedupe_key, a[0].dedupe_key);
  EXPECT_TRUE(ReportsOfDsn(ParseMessage("Subject: hi\n\nhello\n"), 5).empty());
}

POSTE_INSTANTIATE_DB_TEST(MailBounceServiceTest);

}  // namespace
}  // namespace poste::mail
