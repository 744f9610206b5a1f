// The campaign engine's lanes with small claims, on SQLite and PostgreSQL: a batch job claims the next rows
// while it sends (so a campaign goes through many claims in one job), and still every recipient gets one
// message; suppressed rows are skipped, a temporary failure is tried again at its retry time, a permanent
// one is not, a job whose time is up hands over to the next, and a pause leaves no row claimed. The
// transport is a recording stand-in (the SMTP path is tested in lib/mail and tests/api).
#include "modules/mail/campaign_engine.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <map>
#include <mutex>
#include <set>

#include "jobs/job_queue.hpp"
#include "modules/mail/mail_template_test_support.hpp"

namespace poste::mail {
namespace {

// What the stand-in transport saw and answers, shared by the transports the engine opens.
struct Wire {
  std::mutex mutex;
  std::vector<std::string> sent;                // recipients of the messages that went out, in order
  std::map<std::string, int> temporary_until;   // address -> tries answered 451 before a 250
  std::set<std::string> permanent;              // addresses answered 550
  std::function<void(std::size_t)> after_send;  // called with the number of messages sent so far
};

class RecordingTransport final : public Transport {
 public:
  explicit RecordingTransport(Wire& wire) : wire_(wire) {}
  DeliveryResult Send(const Delivery& d) override {
    const std::string to = d.recipients.at(0);
    {
      std::lock_guard lock(wire_.mutex);
      if (wire_.permanent.count(to) != 0) return {DeliveryOutcome::kPermanent, "", "550 5.1.1 no such user", {}};
      if (auto it = wire_.temporary_until.find(to); it != wire_.temporary_until.end() && it->second > 0) {
        --it->second;
        return {DeliveryOutcome::kTemporary, "", "451 4.3.0 try again later", {}};
      }
    }
    if (d.on_commit && !d.on_commit()) return {DeliveryOutcome::kTemporary, "", "not committed", {}};
    std::size_t count = 0;
    {
      std::lock_guard lock(wire_.mutex);
      wire_.sent.push_back(to);
      count = wire_.sent.size();
    }
    if (wire_.after_send) wire_.after_send(count);
    return {DeliveryOutcome::kSent, "", "250 2.0.0 Ok", {}};
  }
  DeliveryResult Check() override { return {DeliveryOutcome::kSent, "", "250 ok", {}}; }

 private:
  Wire& wire_;
};

class CampaignEngineTest : public testing::MailDbTest {
 protected:
  void SetUp() override {
    MailDbTest::SetUp();
    queue_ = std::make_unique<jobs::JobQueue>(db(), [this] { return now_.load(); });
    CampaignHooks hooks;
    hooks.now_ms = [this] { return now_.load(); };
    hooks.open_account = [this](std::int64_t, std::optional<std::int64_t>) {
      CampaignSender sender;
      sender.transport = std::make_unique<RecordingTransport>(wire_);
      sender.from = {"News", "news@alpha.example"};
      return sender;
    };
    hooks.suppressed_among = [](std::int64_t, const std::vector<std::string>& emails) {
      std::vector<std::string> out;
      for (const auto& e : emails) {
        if (e.rfind("gone", 0) == 0) out.push_back(e);
      }
      return out;
    };
    service_ = std::make_unique<CampaignService>(db(), *queue_, std::move(hooks));
  }

  void TearDown() override {
    // Before the database: the engine's sent marker holds a statement prepared on SQLite's writer.
    engine_.reset();
    service_.reset();
    queue_.reset();
    MailDbTest::TearDown();
  }

  void MakeEngine(CampaignEngineOptions options) {
    engine_ = std::make_unique<CampaignEngine>(*service_, *queue_, options);
  }

  // A running campaign of `count` recipients r<i>@example.org (and `gone` suppressed ones among them).
  std::int64_t StartCampaign(int count, const std::vector<std::string>& extra = {}) {
    CampaignInput input;
    input.name = "Spring";
    input.subject = "Hello {{first_name}}";
    input.html = "<p>Hi {{first_name}}</p>";
    input.parallel = 1;
    const auto c = service_->Create(origin_, site_a_, input);
    std::string csv = "email,first_name\n";
    for (int i = 0; i < count; ++i) csv += "r" + std::to_string(i) + "@example.org,R" + std::to_string(i) + "\n";
    for (const auto& e : extra) csv += e + ",X\n";
    service_->ImportCsv(origin_, site_a_, c.id, csv);
    service_->Start(origin_, site_a_, c.id, std::nullopt);
    return c.id;
  }

  // Runs the due batch jobs until none is due; how many ran.
  int RunJobs() {
    int ran = 0;
    while (auto job = queue_->Claim("test", 600'000, {std::string(kCampaignBatchJobKind)})) {
      ++ran;
      engine_->HandleBatch(*job);
      queue_->Complete(job->id, "test");
    }
    return ran;
  }

  std::map<RecipientState, int> States(std::int64_t campaign) {
    std::map<RecipientState, int> out;
    auto page = service_->Recipients(site_a_, campaign, std::nullopt, std::nullopt, 1000);
    for (const auto& r : page.items) ++out[r.state];
    return out;
  }

  std::multiset<std::string> Sent() {
    std::lock_guard lock(wire_.mutex);
    return {wire_.sent.begin(), wire_.sent.end()};
  }

  std::atomic<std::int64_t> now_{1'700'000'000'000};
  Wire wire_;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<CampaignService> service_;
  std::unique_ptr<CampaignEngine> engine_;
};

CampaignEngineOptions SmallClaims() {
  CampaignEngineOptions options;
  options.batch_size = 3;
  options.state_check = std::chrono::milliseconds(0);
  options.flush_interval = std::chrono::milliseconds(0);
  return options;
}

TEST_P(CampaignEngineTest, OneJobGoesThroughManyClaimsAndSendsEachRecipientOnce) {
  MakeEngine(SmallClaims());
  const auto id = StartCampaign(20, {"gone1@example.org", "gone2@example.org"});
  EXPECT_EQ(RunJobs(), 1);  // claims 3 rows at a time, all in the one job
  const auto sent = Sent();
  EXPECT_EQ(sent.size(), 20u);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(sent.count("r" + std::to_string(i) + "@example.org"), 1u) << i;
  EXPECT_EQ(sent.count("gone1@example.org"), 0u);
  EXPECT_EQ(wire_.sent.front(), "r0@example.org");  // in the order of the list
  EXPECT_EQ(wire_.sent.back(), "r19@example.org");
  const auto states = States(id);
  EXPECT_EQ(states.at(RecipientState::kSent), 20);
  EXPECT_EQ(states.at(RecipientState::kSkipped), 2);
  EXPECT_EQ(states.count(RecipientState::kClaimed), 0u);
  EXPECT_EQ(service_->Get(site_a_, id).state, CampaignState::kFinished);
}

TEST_P(CampaignEngineTest, ATemporaryFailureIsTriedAgainAtItsTimeAPermanentOneNot) {
  MakeEngine(SmallClaims());
  wire_.temporary_until["r4@example.org"] = 1;
  wire_.permanent.insert("r7@example.org");
  const auto id = StartCampaign(12);
  RunJobs();
  EXPECT_EQ(Sent().size(), 10u);  // r4 waits for its retry, r7 failed
  auto states = States(id);
  EXPECT_EQ(states.at(RecipientState::kPending), 1);
  EXPECT_EQ(states.at(RecipientState::kFailed), 1);
  EXPECT_EQ(service_->Get(site_a_, id).state, CampaignState::kRunning);
  EXPECT_EQ(RunJobs(), 0);  // the lane's next job waits for the retry time
  now_ += 24 * 3600 * 1000LL;
  EXPECT_EQ(RunJobs(), 1);
  const auto sent = Sent();
  EXPECT_EQ(sent.size(), 11u);
  EXPECT_EQ(sent.count("r4@example.org"), 1u);
  EXPECT_EQ(sent.count("r7@example.org"), 0u);
  states = States(id);
  EXPECT_EQ(states.at(RecipientState::kSent), 11);
  EXPECT_EQ(states.at(RecipientState::kFailed), 1);
  EXPECT_EQ(service_->Get(site_a_, id).state, CampaignState::kFinished);
}

TEST_P(CampaignEngineTest, AJobWhoseTimeIsUpHandsOverToTheNext) {
  auto options = SmallClaims();
  options.job_slice = std::chrono::milliseconds(0);  // each job sends the rows of its first claim only
  MakeEngine(options);
  const auto id = StartCampaign(10);
  EXPECT_GE(RunJobs(), 4);
  const auto sent = Sent();
  EXPECT_EQ(sent.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sent.count("r" + std::to_string(i) + "@example.org"), 1u) << i;
  EXPECT_EQ(service_->Get(site_a_, id).state, CampaignState::kFinished);
}

TEST_P(CampaignEngineTest, APauseWhileSendingLeavesNoRowClaimedAndResumeSendsTheRestOnce) {
  MakeEngine(SmallClaims());
  std::int64_t id = 0;
  wire_.after_send = [&](std::size_t count) {
    if (count == 5) service_->Pause(origin_, site_a_, id);
  };
  id = StartCampaign(30);
  RunJobs();
  wire_.after_send = nullptr;
  const auto before = Sent().size();
  EXPECT_GE(before, 5u);
  EXPECT_LT(before, 30u);  // the lane saw the pause long before the end (it looks before each message)
  auto states = States(id);
  EXPECT_EQ(states.count(RecipientState::kClaimed), 0u);  // rows claimed ahead went back
  EXPECT_EQ(states.at(RecipientState::kPending), static_cast<int>(30 - before));
  service_->Resume(origin_, site_a_, id);
  RunJobs();
  const auto sent = Sent();
  EXPECT_EQ(sent.size(), 30u);
  for (int i = 0; i < 30; ++i) EXPECT_EQ(sent.count("r" + std::to_string(i) + "@example.org"), 1u) << i;
  EXPECT_EQ(service_->Get(site_a_, id).state, CampaignState::kFinished);
}

POSTE_INSTANTIATE_DB_TEST(CampaignEngineTest);

}  // namespace
}  // namespace poste::mail
