// Single messages on SQLite and PostgreSQL, sent by their job through the outbox and through SMTP to the
// capture server of scripts/test-services: states, attempts, the exact answers, retries with backoff, a
// server down then back, cancel before the job runs, idempotency keys, scheduling in the site's zone, limits.
#include "modules/mail/mail_message_service.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <soci/soci.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/error.hpp"
#include "lib/ids.hpp"
#include "lib/mail/mime_parse.hpp"
#include "lib/mail/smtp_client.hpp"
#include "lib/mail/testing/smtp_capture.hpp"
#include "lib/net/testing/loopback.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_message_time.hpp"
#include "modules/sites/sites_store.hpp"
#include "support/db_fixture.hpp"

namespace poste::mail {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int ClosedPort() { return net::testing::ClosedLoopbackPort(); }

class MailMessagesTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    ASSERT_FALSE(Env("POSTE_TEST_SMTP_PORT").empty()) << "source /tmp/svc.env (scripts/test-services) first";
    outbox_ = std::filesystem::temp_directory_path() / ("poste-outbox-" + RandomHex(6));
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    queue_ = std::make_unique<jobs::JobQueue>(
        db(), [this] { return now_; }, [] { return 0.0; });
    site_ = AddSite("alpha", "America/New_York");
    other_ = AddSite("beta", "UTC");
    AccountsOptions accounts;
    accounts.now_ms = [this] { return now_; };
    accounts.transports.outbox_root = outbox_.string();
    accounts.transports.smtp_policy = SmtpTargetPolicy({"127.0.0.1"});
    accounts.transports.smtp_connect_timeout = std::chrono::milliseconds(2000);
    accounts.outbox_from = [](std::int64_t) { return Mailbox{"Alpha", "hello@alpha.example"}; };
    accounts_ = std::make_unique<MailAccountsService>(db(), *box_, std::move(accounts));
    MessagesOptions options;
    options.max_attempts = 3;
    options.now_ms = [this] { return now_; };
    options.jitter = [] { return 0.0; };
    options.site_timezone = [this](std::int64_t site) { return site == site_ ? "America/New_York" : "UTC"; };
    service_ = std::make_unique<MailMessagesService>(db(), *queue_, *accounts_, options);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(outbox_, ec);
    DbTest::TearDown();
  }
  std::int64_t AddSite(const std::string& slug, const std::string& zone) {
    sites::NewSite s;
    s.slug = slug;
    s.name = slug;
    s.timezone = zone;
    return db().WriteValue([&](soci::session& session) { return sites::store::Insert(session, s, 1); });
  }
  Account SmtpAccount(int port, Limits limits = {}) {
    NewAccount n;
    n.name = "capture";
    n.type = "smtp";
    n.from = {"Alpha News", "news@alpha.example"};
    n.settings = {{"host", "127.0.0.1"}, {"port", port}, {"tls", "none"}, {"username", "alpha"}, {"password", "pw"}};
    n.limits = limits;
    return accounts_->Create(origin_, site_, n);
  }
  static int CapturePort() { return std::atoi(Env("POSTE_TEST_SMTP_PORT").c_str()); }
  MessageRequest Request(const std::string& to) {
    MessageRequest r;
    token_ = "tok" + RandomHex(8);
    r.to = {{"Ada Lovelace", to}};
    r.subject = "Bonjour Ünïcødé " + token_;
    r.html = "<p>Hello <b>" + token_ + "</b></p>";
    return r;
  }
  // The webhook events queued so far: (type, data).
  std::vector<std::pair<std::string, nlohmann::json>> Events() {
    std::vector<std::pair<std::string, nlohmann::json>> out;
    db().Read([&](soci::session& s) {
      std::string payload;
      soci::statement st =
          (s.prepare << "SELECT payload FROM jobs WHERE kind = 'webhook.event' ORDER BY id", soci::into(payload));
      st.execute();
      while (st.fetch()) {
        auto event = nlohmann::json::parse(payload);
        out.emplace_back(event["type"], event["data"]);
      }
    });
    return out;
  }
  // Runs every due mail.send job; returns how many sends (not watches) ran.
  int RunJobs() {
    int ran = 0;
    while (auto job = queue_->Claim("test", 60'000, {std::string(kSendJobKind)})) {
      // The watch of a try (queued with each claim, due after the sending lease) is not a send.
      if (job->payload.find("watch_attempt") == std::string::npos) ++ran;
      try {
        service_->HandleSend(*job);
        queue_->Complete(job->id, "test");
      } catch (const std::exception& e) {
        queue_->Fail(job->id, "test", e.what());
      }
    }
    return ran;
  }
  std::vector<FieldError> ErrorsOf(MessageRequest r) {
    try {
      service_->Enqueue(origin_, site_, std::move(r));
    } catch (const AppError& e) {
      EXPECT_EQ(e.status(), 422) << e.message();
      return e.fields();
    }
    ADD_FAILURE() << "accepted";
    return {};
  }
  static bool Has(const std::vector<FieldError>& errors, const std::string& field, const std::string& code) {
    for (const auto& e : errors) {
      if (e.field == field && e.code == code) return true;
    }
    return false;
  }

  std::filesystem::path outbox_;
  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<MailAccountsService> accounts_;
  std::unique_ptr<MailMessagesService> service_;
  audit::Origin origin_;
  std::string token_;
  std::int64_t site_ = 0, other_ = 0;
  std::int64_t now_ =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
};

TEST_P(MailMessagesTest, ASiteWithoutAccountsSendsToItsOutbox) {
  auto queued = service_->Enqueue(origin_, site_, Request("ada@example.com"));
  EXPECT_TRUE(queued.created);
  EXPECT_EQ(queued.message.state, MessageState::kQueued);
  EXPECT_FALSE(queued.message.account_id.has_value());
  EXPECT_EQ(RunJobs(), 1);
  auto sent = service_->Get(site_, queued.message.id);
  EXPECT_EQ(sent.state, MessageState::kSent) << sent.last_error;
  EXPECT_EQ(sent.attempts, 1);
  ASSERT_TRUE(sent.sent_at.has_value());
  const auto dir = outbox_ / std::to_string(site_) / "new";
  ASSERT_TRUE(std::filesystem::exists(dir / sent.provider_message_id)) << sent.provider_message_id;
  EXPECT_TRUE(std::filesystem::is_empty(outbox_ / std::to_string(site_) / "tmp"));
  auto parsed = ParseMessage(ReadFile(dir / sent.provider_message_id));
  EXPECT_EQ(parsed.subject, "Bonjour Ünïcødé " + token_);
  EXPECT_EQ("<" + parsed.message_id + ">", sent.message_id);
  ASSERT_TRUE(parsed.from.has_value());
  EXPECT_EQ(parsed.from->email, "hello@alpha.example");
  EXPECT_NE(parsed.text.find(token_), std::string::npos) << "the text part is derived from the HTML";
}

TEST_P(MailMessagesTest, SentThroughSmtpAndParsedBack) {
  auto account = SmtpAccount(CapturePort());
  auto r = Request("ada@example.com");
  r.cc = {{"", "cc@example.org"}};
  r.bcc = {{"", "hidden@example.net"}};
  r.reply_to = Mailbox{"Desk", "desk@alpha.example"};
  r.headers = {{"X-Campaign", "c-1"}};
  r.in_reply_to = "<orig@example.com>";
  r.references = {"<root@example.com>", "<orig@example.com>"};
  auto queued = service_->Enqueue(origin_, site_, r);
  EXPECT_EQ(queued.message.account_id, account.id) << "the default account";
  EXPECT_EQ(RunJobs(), 1);
  auto sent = service_->Get(site_, queued.message.id);
  ASSERT_EQ(sent.state, MessageState::kSent) << sent.last_error;
  auto eml = mail::testing::SmtpCapture().First(token_).eml;
  ASSERT_FALSE(eml.empty());
  auto parsed = ParseMessage(eml);
  EXPECT_EQ(parsed.subject, r.subject);
  EXPECT_EQ("<" + parsed.message_id + ">", sent.message_id);
  ASSERT_EQ(parsed.to.size(), 1u);
  EXPECT_EQ(parsed.to[0].name, "Ada Lovelace");
  ASSERT_EQ(parsed.cc.size(), 1u);
  EXPECT_EQ(eml.find("hidden@example.net"), std::string::npos) << "Bcc is envelope only";
  ASSERT_EQ(parsed.reply_to.size(), 1u);
  EXPECT_EQ(parsed.reply_to[0].email, "desk@alpha.example");
  EXPECT_EQ(parsed.in_reply_to, "orig@example.com");
  EXPECT_EQ(parsed.references, (std::vector<std::string>{"root@example.com", "orig@example.com"}));
  ASSERT_NE(parsed.Header("X-Campaign"), nullptr);
  EXPECT_EQ(*parsed.Header("X-Campaign"), "c-1");
  EXPECT_NE(parsed.html.find("<b>" + token_ + "</b>"), std::string::npos);
  EXPECT_NE(parsed.text.find(token_), std::string::npos);
  // An email.sent webhook event, in the transaction that recorded the message as sent.
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "email.sent");
  EXPECT_EQ(events[0].second["message_id"], queued.message.id);
  EXPECT_EQ(events[0].second["to"], nlohmann::json({"ada@example.com", "cc@example.org", "hidden@example.net"}));
  EXPECT_EQ(events[0].second["error"], "");
}

TEST_P(MailMessagesTest, TemporaryFailuresRetryWithBackoffThenFail) {
  SmtpAccount(CapturePort());
  auto queued = service_->Enqueue(origin_, site_, Request("tempfail-ada@example.com"));
  EXPECT_EQ(RunJobs(), 1);
  auto m = service_->Get(site_, queued.message.id);
  EXPECT_EQ(m.state, MessageState::kQueued);
  EXPECT_EQ(m.attempts, 1);
  EXPECT_EQ(m.last_error, "451 4.3.0 Temporary failure requested by the capture server");
  EXPECT_TRUE(Events().empty()) << "no event while the message is retried";
  EXPECT_EQ(RunJobs(), 0) << "the retry waits its backoff";
  now_ += jobs::JobQueue::RetryDelayMs(1, 0.0);
  EXPECT_EQ(RunJobs(), 1);
  EXPECT_EQ(service_->Get(site_, queued.message.id).attempts, 2);
  now_ += jobs::JobQueue::RetryDelayMs(2, 0.0);
  EXPECT_EQ(RunJobs(), 1);
  m = service_->Get(site_, queued.message.id);
  EXPECT_EQ(m.state, MessageState::kFailed) << "max_attempts 3";
  EXPECT_EQ(m.attempts, 3);
  EXPECT_EQ(m.last_error, "451 4.3.0 Temporary failure requested by the capture server");
  now_ += 3'600'000;
  EXPECT_EQ(RunJobs(), 0);
}

TEST_P(MailMessagesTest, PermanentFailuresFailAtOnceWithTheExactAnswer) {
  SmtpAccount(CapturePort());
  auto queued = service_->Enqueue(origin_, site_, Request("reject-ada@example.com"));
  EXPECT_EQ(RunJobs(), 1);
  auto m = service_->Get(site_, queued.message.id);
  EXPECT_EQ(m.state, MessageState::kFailed);
  EXPECT_EQ(m.attempts, 1);
  EXPECT_EQ(m.last_error, "550 5.1.1 Recipient rejected by the capture server");
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "email.failed");
  EXPECT_EQ(events[0].second["error"], "550 5.1.1 Recipient rejected by the capture server");
  now_ += 3'600'000;
  EXPECT_EQ(RunJobs(), 0);
}

TEST_P(MailMessagesTest, AServerDownIsRetriedAndTheMessageGoesWhenItIsBack) {
  auto account = SmtpAccount(ClosedPort());
  auto queued = service_->Enqueue(origin_, site_, Request("ada@example.com"));
  EXPECT_EQ(RunJobs(), 1);
  auto m = service_->Get(site_, queued.message.id);
  EXPECT_EQ(m.state, MessageState::kQueued);
  EXPECT_TRUE(m.last_error.starts_with("could not connect to 127.0.0.1:")) << m.last_error;
  AccountPatch back;
  back.settings = nlohmann::json{{"port", CapturePort()}};
  accounts_->Update(origin_, site_, account.id, back);
  now_ += jobs::JobQueue::RetryDelayMs(1, 0.0);
  EXPECT_EQ(RunJobs(), 1);
  m = service_->Get(site_, queued.message.id);
  EXPECT_EQ(m.state, MessageState::kSent) << m.last_error;
  EXPECT_EQ(m.attempts, 2);
  auto parsed = ParseMessage(mail::testing::SmtpCapture().First(token_).eml);
  EXPECT_EQ("<" + parsed.message_id + ">", queued.message.message_id) << "the retry kept the Message-ID";
  EXPECT_EQ(mail::testing::SmtpCapture().Count(token_), 1u);
}

TEST_P(MailMessagesTest, ACancelledMessageIsNeverSent) {
  SmtpAccount(CapturePort());
  auto r = Request("ada@example.com");
  auto queued = service_->Enqueue(origin_, site_, r);
  auto cancelled = service_->Cancel(origin_, site_, queued.message.id);
  EXPECT_EQ(cancelled.state, MessageState::kCancelled);
  EXPECT_EQ(RunJobs(), 1) << "the job runs and finds the message cancelled";
  EXPECT_EQ(service_->Get(site_, queued.message.id).state, MessageState::kCancelled);
  EXPECT_EQ(service_->Get(site_, queued.message.id).attempts, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(mail::testing::SmtpCapture().Count(token_), 0u);
  try {
    service_->Cancel(origin_, site_, queued.message.id);
    ADD_FAILURE() << "cancelled twice";
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 409);
  }
  // A sent message cannot be cancelled; another site's is not found.
  auto other = service_->Enqueue(origin_, site_, Request("bob@example.com"));
  RunJobs();
  EXPECT_THROW(service_->Cancel(origin_, site_, other.message.id), AppError);
  try {
    service_->Cancel(origin_, other_, other.message.id);
  } catch (const AppError& e) {
    EXPECT_EQ(e.status(), 404);
  }
}

TEST_P(MailMessagesTest, ScheduledInTheSitesTimeZone) {
  SendOptions options;
  options.send_at = "2099-07-01T09:30";  // New York summer time, UTC-4
  auto queued = service_->Enqueue(origin_, site_, Request("ada@example.com"), options);
  EXPECT_EQ(queued.message.request.send_at_ms, CivilToEpoch(2099, 7, 1, 13, 30, 0) * 1000);
  EXPECT_EQ(RunJobs(), 0) << "not before its time";
  auto cancelled = service_->Cancel(origin_, site_, queued.message.id);
  EXPECT_EQ(cancelled.state, MessageState::kCancelled);
  now_ = *queued.message.request.send_at_ms;
  EXPECT_EQ(RunJobs(), 1);
  EXPECT_EQ(service_->Get(site_, queued.message.id).state, MessageState::kCancelled);
  EXPECT_FALSE(std::filesystem::exists(outbox_ / std::to_string(site_) / "new")) << "nothing was written";
  options.send_at = "next tuesday";
  try {
    service_->Enqueue(origin_, site_, Request("ada@example.com"), options);
    ADD_FAILURE();
  } catch (const AppError& e) {
    ASSERT_EQ(e.fields().size(), 1u);
    EXPECT_EQ(e.fields()[0].field, "send_at");
  }
}

TEST_P(MailMessagesTest, AnIdempotencyKeyReturnsTheFirstMessage) {
  SendOptions options;
  options.idempotency_key = "order-42";
  auto first = service_->Enqueue(origin_, site_, Request("ada@example.com"), options);
  auto again = service_->Enqueue(origin_, site_, Request("someone-else@example.com"), options);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.message.id, first.message.id);
  auto elsewhere = service_->Enqueue(origin_, other_, Request("ada@example.com"), options);
  EXPECT_TRUE(elsewhere.created) << "keys are per site";
  EXPECT_EQ(RunJobs(), 2);
  options.idempotency_key = "bad key\r\nX: y";
  EXPECT_THROW(service_->Enqueue(origin_, site_, Request("ada@example.com"), options), AppError);
}

TEST_P(MailMessagesTest, HeaderInjectionAndBadAddressesAreRefusedWithFieldErrors) {
  auto r = Request("ada@example.com");
  r.subject = "Hello\r\nBcc: victim@example.com";
  EXPECT_TRUE(Has(ErrorsOf(r), "subject", "header_injection"));
  r = Request("ada@example.com");
  r.to[0].name = "Ada\nBcc: victim@example.com";
  EXPECT_TRUE(Has(ErrorsOf(r), "to[0].name", "header_injection"));
  r = Request("ada@example.com");
  r.to.push_back({"", "bob@example.com\r\nRCPT TO:<x@y.z>"});
  EXPECT_TRUE(Has(ErrorsOf(r), "to[1].email", "header_injection"));
  r = Request("ada@example.com");
  r.headers = {{"Bcc", "x@y.z"}, {"X-Ok", "a\r\nb"}};
  auto errors = ErrorsOf(r);
  EXPECT_TRUE(Has(errors, "headers[0].name", "reserved_header"));
  EXPECT_TRUE(Has(errors, "headers[1].value", "header_injection"));
  r = Request("ada@example.com");
  r.account_id = 999999;
  EXPECT_TRUE(Has(ErrorsOf(r), "account_id", "not_found"));
  r = Request("ada@example.com");
  r.attachments = {424242};
  EXPECT_TRUE(Has(ErrorsOf(r), "attachments[0]", "not_found"));
  r = Request("ada@example.com");
  r.to.clear();
  EXPECT_TRUE(Has(ErrorsOf(r), "to", "required"));
  EXPECT_TRUE(service_->List(site_, std::nullopt, 50, std::nullopt).items.empty()) << "nothing stored";
}

TEST_P(MailMessagesTest, LimitsDelayTheSendInsteadOfFailingIt) {
  SmtpAccount(CapturePort(), Limits{1, 0, 0});
  auto a = service_->Enqueue(origin_, site_, Request("ada@example.com"));
  const std::string first_token = token_;
  auto b = service_->Enqueue(origin_, site_, Request("bob@example.com"));
  EXPECT_EQ(RunJobs(), 2);
  EXPECT_EQ(service_->Get(site_, a.message.id).state, MessageState::kSent);
  auto waiting = service_->Get(site_, b.message.id);
  EXPECT_EQ(waiting.state, MessageState::kQueued) << "1 per second: the second waits";
  EXPECT_EQ(waiting.attempts, 0) << "waiting for a slot is not a failed try";
  now_ += 1000;
  EXPECT_EQ(RunJobs(), 1);
  EXPECT_EQ(service_->Get(site_, b.message.id).state, MessageState::kSent);
  EXPECT_EQ(mail::testing::SmtpCapture().Count(first_token), 1u);
}

TEST_P(MailMessagesTest, ListsNewestFirstWithACursor) {
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(service_->Enqueue(origin_, site_, Request("a@example.com")).message.id);
  service_->Enqueue(origin_, other_, Request("a@example.com"));
  auto page = service_->List(site_, std::nullopt, 3, std::nullopt);
  ASSERT_EQ(page.items.size(), 3u);
  EXPECT_EQ(page.items[0].id, ids[4]);
  ASSERT_TRUE(page.next_cursor.has_value());
  auto rest = service_->List(site_, std::nullopt, 3, page.next_cursor);
  ASSERT_EQ(rest.items.size(), 2u);
  EXPECT_EQ(rest.items[1].id, ids[0]);
  EXPECT_FALSE(rest.next_cursor.has_value());
  EXPECT_EQ(service_->List(site_, MessageState::kSent, 10, std::nullopt).items.size(), 0u);
  EXPECT_THROW(service_->Get(other_, ids[0]), AppError);
}

POSTE_INSTANTIATE_DB_TEST(MailMessagesTest);

}  // namespace
}  // namespace poste::mail
