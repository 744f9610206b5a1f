#include "modules/contacts/contacts_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/error.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/contacts/contacts_store.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/webhooks/webhook_events.hpp"
#include "support/db_fixture.hpp"

namespace poste::contacts {
namespace {

class ContactsServiceTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    queue_ = std::make_unique<jobs::JobQueue>(db(), [this] { return now_; });
    site_ = AddSite("alpha");
    other_ = AddSite("beta");
    Build({});
  }
  void Build(ContactsOptions options) {
    options.now_ms = [this] { return now_; };
    if (!options.contact_address) options.contact_address = [](std::int64_t) { return std::string("owner@site.test"); };
    service_ = std::make_unique<ContactsService>(db(), *queue_, "ip-key", std::move(options));
  }
  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite s;
    s.slug = slug;
    s.name = slug;
    return db().WriteValue([&](soci::session& session) { return sites::store::Insert(session, s, 1); });
  }
  static Submission Form(std::string name = "Ada") {
    Submission s;
    s.name = std::move(name);
    s.email = " Ada@Example.COM ";
    s.subject = "Course";
    s.message = "When does it start?";
    s.page = "/formations";
    return s;
  }
  std::int64_t JobCount(std::string_view kind) {
    return db().ReadValue([&](soci::session& s) {
      long long n = 0;
      const std::string k(kind);
      s << "SELECT COUNT(*) FROM jobs WHERE kind = :k", soci::use(k), soci::into(n);
      return static_cast<std::int64_t>(n);
    });
  }
  ContactsService& svc() { return *service_; }

  std::int64_t now_ = 1'700'000'000'000;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<ContactsService> service_;
  std::int64_t site_ = 0, other_ = 0;
  audit::Origin origin_{1, std::nullopt, "192.0.2.1", "req-1"};
};

TEST_P(ContactsServiceTest, StoresAMessageWithItsJobAndWebhookEvent) {
  auto id = svc().Submit(site_, Form(), {"203.0.113.9", "Mozilla/5.0\r\nX-Evil: 1"});
  ASSERT_TRUE(id.has_value());
  auto c = svc().Get(site_, *id);
  EXPECT_EQ(c.email, "Ada@example.com");
  EXPECT_EQ(c.page, "/formations");
  EXPECT_EQ(c.user_agent, "Mozilla/5.0X-Evil: 1");  // control characters dropped
  EXPECT_EQ(c.ip_hash, svc().HashIp("203.0.113.9"));
  EXPECT_EQ(c.ip_hash.size(), 64u);
  EXPECT_EQ(c.ip_hash.find("203"), std::string::npos);
  EXPECT_NE(c.ip_hash, svc().HashIp("203.0.113.10"));
  EXPECT_FALSE(c.read);
  EXPECT_EQ(c.notify_status, NotifyStatus::kPending);
  EXPECT_EQ(c.created_at, now_);

  auto notify = queue_->Claim("w", 60'000, {std::string(kNotifyJobKind)});
  ASSERT_TRUE(notify);
  EXPECT_EQ(nlohmann::json::parse(notify->payload), (nlohmann::json{{"site_id", site_}, {"contact_id", *id}}));
  auto event = queue_->Claim("w", 60'000, {std::string(webhooks::kEventJobKind)});
  ASSERT_TRUE(event);
  auto e = nlohmann::json::parse(event->payload);
  EXPECT_EQ(e["type"], "contact.received");
  EXPECT_EQ(e["site_id"], site_);
  EXPECT_EQ(e["data"]["contact_id"], *id);
  EXPECT_EQ(e["data"]["email"], "Ada@example.com");
}

TEST_P(ContactsServiceTest, SpamIsDroppedSilentlyAndInvalidInputIsA422) {
  auto bot = Form();
  bot.website = "http://cheap-pills.example";
  EXPECT_FALSE(svc().Submit(site_, bot, {"203.0.113.9", ""}).has_value());
  auto quick = Form();
  quick.started_at = now_ - 500;
  EXPECT_FALSE(svc().Submit(site_, quick, {"203.0.113.9", ""}).has_value());
  // A bot whose fields are also invalid still gets no hint (no 422).
  auto invalid_bot = Submission{};
  invalid_bot.website = "x";
  EXPECT_NO_THROW(svc().Submit(site_, invalid_bot, {"", ""}));
  EXPECT_TRUE(svc().List(site_, {}).items.empty());
  EXPECT_EQ(JobCount(kNotifyJobKind), 0);
  EXPECT_EQ(JobCount(webhooks::kEventJobKind), 0);

  auto slow = Form();
  slow.started_at = now_ - 10'000;
  EXPECT_TRUE(svc().Submit(site_, slow, {"", ""}).has_value());

  auto bad = Form();
  bad.email = "nope";
  try {
    svc().Submit(site_, bad, {"", ""});
    ADD_FAILURE() << "no error";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 422);
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].field, "email");
  }
  EXPECT_EQ(svc().List(site_, {}).items.size(), 1u);
}

TEST_P(ContactsServiceTest, ListFiltersPaginatesAndStaysInItsSite) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    now_ += 1000;
    auto s = Form("Person " + std::to_string(i));
    if (i == 3) s.message = "100% sure_about it";
    ids.push_back(*svc().Submit(site_, s, {"", ""}));
  }
  svc().Submit(other_, Form("Other site"), {"", ""});
  svc().Update(origin_, site_, ids[0], {true, std::nullopt});
  svc().Update(origin_, site_, ids[1], {std::nullopt, true});

  auto names = [&](ContactFilter f) {
    std::vector<std::string> out;
    for (const auto& c : svc().List(site_, f).items) out.push_back(c.name);
    return out;
  };
  EXPECT_EQ(names({}), (std::vector<std::string>{"Person 4", "Person 3", "Person 2", "Person 0"}));
  ContactFilter f;
  f.status = StatusFilter::kUnread;
  EXPECT_EQ(names(f), (std::vector<std::string>{"Person 4", "Person 3", "Person 2"}));
  EXPECT_EQ(db().ReadValue([&](soci::session& s) { return store::CountUnread(s, site_); }), 3);
  f.status = StatusFilter::kRead;
  EXPECT_EQ(names(f), (std::vector<std::string>{"Person 0"}));
  f.status = StatusFilter::kArchived;
  EXPECT_EQ(names(f), (std::vector<std::string>{"Person 1"}));
  f.status = StatusFilter::kAll;
  EXPECT_EQ(names(f).size(), 5u);
  f.from_ms = 1'700'000'002'000;
  f.to_ms = 1'700'000'004'000;
  EXPECT_EQ(names(f), (std::vector<std::string>{"Person 2", "Person 1"}));
  ContactFilter q;
  q.q = "100%";  // LIKE wildcards are matched literally
  EXPECT_EQ(names(q), (std::vector<std::string>{"Person 3"}));
  q.q = "SURE_";
  EXPECT_EQ(names(q), (std::vector<std::string>{"Person 3"}));
  q.q = "PERSON 2";
  EXPECT_EQ(names(q), (std::vector<std::string>{"Person 2"}));
  q.q = "' OR 1=1 --";
  EXPECT_TRUE(names(q).empty());

  ContactFilter page;
  page.status = StatusFilter::kAll;
  page.limit = 2;
  auto p1 = svc().List(site_, page);
  ASSERT_EQ(p1.items.size(), 2u);
  ASSERT_TRUE(p1.next_cursor);
  page.cursor = p1.next_cursor;
  auto p2 = svc().List(site_, page);
  ASSERT_EQ(p2.items.size(), 2u);
  page.cursor = p2.next_cursor;
  auto p3 = svc().List(site_, page);
  ASSERT_EQ(p3.items.size(), 1u);
  EXPECT_FALSE(p3.next_cursor);
  EXPECT_EQ(p3.items[0].id, ids[0]);

  // Another site's contact is invisible here.
  auto theirs = svc().List(other_, {}).items.at(0).id;
  EXPECT_THROW(svc().Get(site_, theirs), AppError);
  EXPECT_THROW(svc().Update(origin_, site_, theirs, {true, std::nullopt}), AppError);
  EXPECT_THROW(svc().Delete(origin_, site_, theirs), AppError);
  EXPECT_NO_THROW(svc().Get(other_, theirs));
}

TEST_P(ContactsServiceTest, UpdatesAndDeletesAreAudited) {
  auto id = *svc().Submit(site_, Form(), {"", ""});
  auto read = svc().Update(origin_, site_, id, {true, true});
  EXPECT_TRUE(read.read);
  EXPECT_TRUE(read.archived);
  svc().Update(origin_, site_, id, {true, std::nullopt});  // no change: no entry
  svc().Delete(origin_, site_, id);
  EXPECT_THROW(svc().Get(site_, id), AppError);
  auto log = audit::AuditService(db()).List({});
  ASSERT_EQ(log.items.size(), 2u);
  EXPECT_EQ(log.items[1].action, "contact.update");
  EXPECT_EQ(log.items[1].changes["read"]["to"], true);
  EXPECT_EQ(log.items[1].site_id, site_);
  EXPECT_EQ(log.items[0].action, "contact.delete");
  EXPECT_EQ(log.items[0].object_id, std::to_string(id));
  EXPECT_FALSE(log.items[0].changes.dump().find("When does it start") != std::string::npos);
}

TEST_P(ContactsServiceTest, ExportsCsvWithTheFilters) {
  auto s = Form("=HYPERLINK(\"http://evil\")");
  s.message = "line 1\nline 2, with comma";
  svc().Submit(site_, s, {"", ""});
  now_ += 1000;
  auto archived = *svc().Submit(site_, Form("Archived"), {"", ""});
  svc().Update(origin_, site_, archived, {std::nullopt, true});
  auto csv = svc().ExportCsv(site_, {});
  EXPECT_TRUE(csv.starts_with("\xEF\xBB\xBFid,"));
  EXPECT_NE(csv.find("\"'=HYPERLINK(\"\"http://evil\"\")\""), std::string::npos) << csv;
  EXPECT_NE(csv.find("\"line 1\nline 2, with comma\""), std::string::npos) << csv;
  EXPECT_EQ(csv.find("Archived"), std::string::npos);
  ContactFilter all;
  all.status = StatusFilter::kAll;
  all.limit = 1;  // ignored: the export is the whole list
  EXPECT_NE(svc().ExportCsv(site_, all).find("Archived"), std::string::npos);
}

TEST_P(ContactsServiceTest, NotifyWithoutMailRecordsWhyAndRetries) {
  auto id = *svc().Submit(site_, Form(), {"", ""});
  auto job = queue_->Claim("w", 60'000, {std::string(kNotifyJobKind)});
  ASSERT_TRUE(job);
  EXPECT_THROW(svc().HandleNotify(*job), std::runtime_error);
  try {
    svc().HandleNotify(*job);
  } catch (const jobs::PermanentError&) {
    ADD_FAILURE() << "a missing mail account must stay retryable";
  } catch (const std::exception&) {
  }
  auto c = svc().Get(site_, id);
  EXPECT_EQ(c.notify_status, NotifyStatus::kPending);
  EXPECT_EQ(c.notify_error, kNoMailAccount);
  // Through the queue: the failure is retried later with backoff, not killed.
  ASSERT_TRUE(queue_->Fail(job->id, "w", "no mail account is configured"));
  auto after = queue_->Get(job->id);
  EXPECT_EQ(after->state, jobs::JobState::kQueued);
  EXPECT_GT(after->run_at_ms, now_);
  // The last attempt marks the notification failed.
  job->attempts = job->max_attempts;
  EXPECT_THROW(svc().HandleNotify(*job), std::runtime_error);
  EXPECT_EQ(svc().Get(site_, id).notify_status, NotifyStatus::kFailed);
}

TEST_P(ContactsServiceTest, NotifySendsThroughTheMailModuleOnce) {
  std::vector<Notification> sent;
  ContactsOptions options;
  options.send_mail = [&](const Notification& n) { sent.push_back(n); };
  Build(std::move(options));
  auto id = *svc().Submit(site_, Form(), {"", ""});
  auto job = queue_->Claim("w", 60'000, {std::string(kNotifyJobKind)});
  ASSERT_TRUE(job);
  svc().HandleNotify(*job);
  svc().HandleNotify(*job);  // run twice (a lease expired): sent once
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].to, "owner@site.test");
  EXPECT_EQ(sent[0].reply_to, "Ada@example.com");
  EXPECT_NE(sent[0].text.find("When does it start?"), std::string::npos);
  EXPECT_EQ(svc().Get(site_, id).notify_status, NotifyStatus::kSent);
  // A deleted contact's job completes without sending.
  svc().Delete(origin_, site_, id);
  EXPECT_NO_THROW(svc().HandleNotify(*job));
  jobs::Job bad = *job;
  bad.payload = R"({"site_id":"x"})";
  EXPECT_THROW(svc().HandleNotify(bad), jobs::PermanentError);
}

POSTE_INSTANTIATE_DB_TEST(ContactsServiceTest);

}  // namespace
}  // namespace poste::contacts
