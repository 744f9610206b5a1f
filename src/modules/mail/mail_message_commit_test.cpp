// The robustness of single messages, on SQLite and PostgreSQL, through the outbox transport (its point of no
// return is the rename into new/): a message is recorded as sent right before that point, so a failure of
// what follows (the outcome's write, the worker) never sends it twice; a try that stops before it leaves the
// message "sending" only until its lease ends, then the message is retried, or failed after the last
// attempt; a try that lost its claim (another try took the message) sends nothing.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/ids.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_message_service.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::mail {
namespace {

constexpr std::int64_t kLease = 60'000;

class MailMessageCommitTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    outbox_ = std::filesystem::temp_directory_path() / ("poste-commit-" + RandomHex(6));
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    queue_ = std::make_unique<jobs::JobQueue>(
        db(), [this] { return now_; }, [] { return 0.0; });
    sites::NewSite s;
    s.slug = "alpha";
    s.name = "alpha";
    site_ = db().WriteValue([&](soci::session& session) { return sites::store::Insert(session, s, 1); });
    AccountsOptions accounts;
    accounts.now_ms = [this] { return now_; };
    accounts.transports.outbox_root = outbox_.string();
    accounts.outbox_from = [](std::int64_t) { return Mailbox{"Alpha", "hello@alpha.example"}; };
    accounts_ = std::make_unique<MailAccountsService>(db(), *box_, std::move(accounts));
    MessagesOptions options;
    options.max_attempts = 2;
    options.now_ms = [this] { return now_; };
    options.jitter = [] { return 0.0; };
    options.sending_lease_ms = kLease;
    options.fault = [this](std::string_view stage) {
      if (stage == fail_at_) {
        if (on_fault_) on_fault_();
        if (throw_) throw std::runtime_error("injected failure at " + std::string(stage));
      }
    };
    service_ = std::make_unique<MailMessagesService>(db(), *queue_, *accounts_, options);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(outbox_, ec);
    DbTest::TearDown();
  }

  std::int64_t Enqueue() {
    MessageRequest r;
    r.to = {{"Ada", "ada@example.com"}};
    r.subject = "Hello";
    r.text = "Hi";
    return service_->Enqueue(origin_, site_, r).message.id;
  }
  int RunJobs() {
    int ran = 0;
    while (auto job = queue_->Claim("test", 600'000, {std::string(kSendJobKind)})) {
      ++ran;
      try {
        service_->HandleSend(*job);
        queue_->Complete(job->id, "test");
      } catch (const std::exception& e) {
        queue_->Fail(job->id, "test", e.what());
      }
    }
    return ran;
  }
  int Delivered() {
    const auto dir = outbox_ / std::to_string(site_) / "new";
    if (!std::filesystem::exists(dir)) return 0;
    int n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
    return n;
  }
  // The send jobs (not the watches) die: what a job that used up its attempts leaves.
  void KillSendJobs() {
    db().Write([](soci::session& s) {
      s << "UPDATE jobs SET state = 'dead' WHERE kind = 'mail.send' AND payload NOT LIKE '%watch_attempt%'"
           " AND state <> 'done'";
    });
  }
  std::vector<std::string> Events() {
    std::vector<std::string> out;
    db().Read([&](soci::session& s) {
      std::string payload;
      soci::statement st =
          (s.prepare << "SELECT payload FROM jobs WHERE kind = 'webhook.event' ORDER BY id", soci::into(payload));
      st.execute();
      while (st.fetch()) out.push_back(nlohmann::json::parse(payload)["type"]);
    });
    return out;
  }

  std::filesystem::path outbox_;
  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<MailAccountsService> accounts_;
  std::unique_ptr<MailMessagesService> service_;
  audit::Origin origin_;
  std::int64_t site_ = 0;
  std::int64_t now_ = 1'800'000'000'000;
  std::string fail_at_;
  bool throw_ = true;
  std::function<void()> on_fault_;
};

TEST_P(MailMessageCommitTest, AFailureAfterTheSendNeverSendsTwice) {
  const auto id = Enqueue();
  fail_at_ = "after_send";  // the message is out; the outcome's write never happens
  EXPECT_EQ(RunJobs(), 1);
  EXPECT_EQ(Delivered(), 1);
  auto m = service_->Get(site_, id);
  EXPECT_EQ(m.state, MessageState::kSent) << "recorded before the point of no return";
  ASSERT_TRUE(m.sent_at.has_value());
  EXPECT_EQ(*m.sent_at, now_);
  // The job is retried (and its watch comes due): neither sends again.
  fail_at_.clear();
  now_ += 3'600'000;
  EXPECT_GE(RunJobs(), 2);
  EXPECT_EQ(Delivered(), 1);
  m = service_->Get(site_, id);
  EXPECT_EQ(m.state, MessageState::kSent);
  EXPECT_EQ(m.attempts, 1);
}

TEST_P(MailMessageCommitTest, AMessageLeftSendingIsRetriedWhenItsLeaseEnds) {
  const auto id = Enqueue();
  fail_at_ = "before_send";  // the worker stops after the claim, before the transport
  EXPECT_EQ(RunJobs(), 1);
  KillSendJobs();
  EXPECT_EQ(service_->Get(site_, id).state, MessageState::kSending);
  EXPECT_EQ(Delivered(), 0);
  fail_at_.clear();
  now_ += kLease - 1;
  EXPECT_EQ(RunJobs(), 0) << "the watch waits for the lease";
  EXPECT_EQ(service_->Get(site_, id).state, MessageState::kSending);
  now_ += 1;
  EXPECT_EQ(RunJobs(), 2) << "the watch requeues it, the new job sends it";
  auto m = service_->Get(site_, id);
  EXPECT_EQ(m.state, MessageState::kSent) << m.last_error;
  EXPECT_EQ(m.attempts, 2);
  EXPECT_EQ(Delivered(), 1);
  EXPECT_EQ(Events(), (std::vector<std::string>{"email.sent"}));
}

TEST_P(MailMessageCommitTest, AfterTheLastAttemptAMessageLeftSendingFails) {
  const auto id = Enqueue();
  fail_at_ = "before_send";
  EXPECT_EQ(RunJobs(), 1);
  KillSendJobs();
  now_ += kLease;
  EXPECT_EQ(RunJobs(), 2) << "the watch requeues it; the new try stops too";
  KillSendJobs();
  EXPECT_EQ(service_->Get(site_, id).attempts, 2);
  now_ += kLease;
  EXPECT_EQ(RunJobs(), 1) << "the second try's watch";
  auto m = service_->Get(site_, id);
  EXPECT_EQ(m.state, MessageState::kFailed);
  EXPECT_EQ(m.last_error, "the try 2 stopped before an outcome was recorded");
  EXPECT_EQ(Delivered(), 0);
  EXPECT_EQ(Events(), (std::vector<std::string>{"email.failed"}));
  // A late watch of an earlier try changes nothing.
  now_ += kLease;
  EXPECT_EQ(RunJobs(), 0);
  EXPECT_EQ(service_->Get(site_, id).state, MessageState::kFailed);
}

TEST_P(MailMessageCommitTest, ATryThatLostItsClaimSendsNothing) {
  const auto id = Enqueue();
  // While this try builds the message, another try claims it (as after an expired job lease).
  fail_at_ = "before_send";
  throw_ = false;
  on_fault_ = [&] {
    db().Write([&](soci::session& s) {
      const long long message = id;
      s << "UPDATE mail_messages SET attempts = attempts + 1 WHERE id = :id", soci::use(message);
    });
  };
  EXPECT_EQ(RunJobs(), 1);
  EXPECT_EQ(Delivered(), 0) << "on_commit refused: nothing was moved into new/";
  auto m = service_->Get(site_, id);
  EXPECT_EQ(m.state, MessageState::kSending) << "left to the try that holds it";
  EXPECT_EQ(m.attempts, 2);
  EXPECT_TRUE(Events().empty());
}

TEST_P(MailMessageCommitTest, ACancelledMessageIsNotRecovered) {
  const auto id = Enqueue();
  service_->Cancel(origin_, site_, id);
  now_ += 10 * kLease;
  EXPECT_EQ(RunJobs(), 1);
  EXPECT_EQ(service_->Get(site_, id).state, MessageState::kCancelled);
  EXPECT_EQ(Delivered(), 0);
}

POSTE_INSTANTIATE_DB_TEST(MailMessageCommitTest);

}  // namespace
}  // namespace poste::mail
