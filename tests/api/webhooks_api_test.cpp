// Webhooks through the whole app (issue 4), on SQLite and PostgreSQL: subscriptions over the API (URL
// checks, the secret shown once), a contact received through the public form fanned out and delivered to a
// real HTTP receiver on loopback, the delivery log, redelivery and the test ping over the API. The app runs
// no workers in tests: the jobs it queued are run here by the webhooks service over the same database and
// master key, as the app's workers would.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>
#include <string>

#include "jobs/job_queue.hpp"
#include "lib/net/testing/http_receiver.hpp"
#include "modules/webhooks/webhook_events.hpp"
#include "modules/webhooks/webhook_signature.hpp"
#include "modules/webhooks/webhooks_service.hpp"
#include "permission_table.hpp"

namespace poste::testing {
namespace {

using net::testing::HttpReceiver;

class WebhooksApi : public PermissionTable {
 protected:
  void Configure(app::Config& config) override { config.webhooks.allow_private_targets = {"127.0.0.1"}; }

  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    queue_ = std::make_unique<jobs::JobQueue>(db());
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(master_key_));
    client_ = std::make_unique<net::HttpClient>(
        net::HttpClientOptions{"Poste-Webhooks/test", net::TargetPolicy::WithAllowList({"127.0.0.1"})});
    service_ = std::make_unique<webhooks::WebhooksService>(db(), *queue_, *box_, *client_);
  }

  // Runs every due job of the kind, as the app's workers would; returns how many ran.
  int RunJobs(std::string_view kind) {
    int ran = 0;
    while (auto job = queue_->Claim("test", 60'000, {std::string(kind)})) {
      ++ran;
      try {
        if (kind == webhooks::kEventJobKind) service_->HandleEvent(*job);
        if (kind == webhooks::kDeliverJobKind) service_->HandleDeliver(*job);
        queue_->Complete(job->id, "test");
      } catch (const std::exception& e) {
        queue_->Fail(job->id, "test", e.what());
      }
    }
    return ran;
  }

  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<net::HttpClient> client_;
  std::unique_ptr<webhooks::WebhooksService> service_;
};

TEST_P(WebhooksApi, AReceivedContactIsDeliveredSignedAndLogged) {
  HttpReceiver receiver;
  const std::string url = "http://127.0.0.1:" + std::to_string(receiver.port()) + "/poste";
  auto created = Call("POST", "/api/v1/sites/alpha/webhooks", callers_[kEditorA],
                      nlohmann::json{{"url", url}, {"events", {"contact.received"}}}.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  auto sub = nlohmann::json::parse(created.body);
  const std::string secret = sub["secret"];
  const std::string base = "/api/v1/sites/alpha/webhooks/" + std::to_string(sub["id"].get<std::int64_t>());
  EXPECT_EQ(*created.headers.Get("Location"),
            "/api/v1/sites/" + std::to_string(site_a_) + "/webhooks/" + std::to_string(sub["id"].get<std::int64_t>()));
  auto shown = Call("GET", base, callers_[kEditorA]);
  EXPECT_EQ(shown.status, 200);
  EXPECT_EQ(shown.body.find(secret), std::string::npos) << "the secret is shown at creation only";
  EXPECT_EQ(nlohmann::json::parse(shown.body)["secret_set"], true);
  auto list = Call("GET", "/api/v1/sites/alpha/webhooks", callers_[kEditorA]);
  EXPECT_EQ(nlohmann::json::parse(list.body)["items"].size(), 1u);
  EXPECT_EQ(list.body.find(secret), std::string::npos);

  auto sent = Call("POST", "/api/v1/public/sites/alpha/contact", {},
                   R"({"name":"Ada","email":"ada@example.com","message":"Hello"})");
  ASSERT_EQ(sent.status, 202) << sent.body;
  EXPECT_EQ(RunJobs(webhooks::kEventJobKind), 1);
  EXPECT_EQ(RunJobs(webhooks::kDeliverJobKind), 1);
  auto got = receiver.Requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].target, "/poste");
  EXPECT_EQ(got[0].headers["poste-event"], "contact.received");
  const auto now_s = std::time(nullptr);
  EXPECT_TRUE(webhooks::VerifySignature(got[0].headers["poste-signature"], secret, got[0].body, now_s));
  auto event = nlohmann::json::parse(got[0].body);
  EXPECT_EQ(event["type"], "contact.received");
  EXPECT_EQ(event["site_id"], site_a_);
  EXPECT_EQ(event["data"]["name"], "Ada");

  auto log = Call("GET", base + "/deliveries", callers_[kEditorA]);
  ASSERT_EQ(log.status, 200) << log.body;
  auto deliveries = nlohmann::json::parse(log.body)["items"];
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0]["status"], "succeeded");
  EXPECT_EQ(deliveries[0]["response_status"], 200);
  EXPECT_EQ(deliveries[0]["response_excerpt"], "ok");
  EXPECT_EQ(deliveries[0]["payload"]["id"], event["id"]);
  EXPECT_EQ(deliveries[0]["attempt_log"].size(), 1u);
  EXPECT_EQ(got[0].headers["poste-delivery"], std::to_string(deliveries[0]["id"].get<std::int64_t>()));

  // Redelivery and a test ping, from the API.
  auto again =
      Call("POST", base + "/deliveries/" + std::to_string(deliveries[0]["id"].get<std::int64_t>()) + "/redeliver",
           callers_[kEditorA]);
  EXPECT_EQ(again.status, 202) << again.body;
  auto ping = Call("POST", base + "/test", callers_[kEditorA]);
  EXPECT_EQ(ping.status, 202) << ping.body;
  EXPECT_EQ(nlohmann::json::parse(ping.body)["event_type"], "ping");
  EXPECT_EQ(RunJobs(webhooks::kDeliverJobKind), 2);
  got = receiver.Requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].body, got[0].body);
  EXPECT_NE(got[1].headers["poste-delivery"], got[0].headers["poste-delivery"]);
  EXPECT_EQ(got[2].headers["poste-event"], "ping");
  EXPECT_EQ(nlohmann::json::parse(Call("GET", base + "/deliveries", callers_[kEditorA]).body)["items"].size(), 3u);
}

TEST_P(WebhooksApi, SubscriptionsAreValidatedAndAudited) {
  const auto create = [&](const nlohmann::json& body) {
    return Call("POST", "/api/v1/sites/alpha/webhooks", callers_[kAdmin], body.dump());
  };
  for (const char* refused : {"http://10.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/",
                              "http://127.0.0.2/", "http://192.168.1.1/"}) {
    auto r = create({{"url", refused}, {"events", {"entry.created"}}});
    EXPECT_EQ(r.status, 422) << refused;
    EXPECT_NE(r.body.find("refused_target"), std::string::npos) << r.body;
  }
  auto r = create({{"url", "gopher://example.com/"}, {"events", {"entry.created"}}});
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("\"url\""), std::string::npos);
  r = create({{"url", "http://127.0.0.1:9/"}, {"events", {"entry.exploded"}}});
  EXPECT_EQ(r.status, 422);
  EXPECT_NE(r.body.find("events[0]"), std::string::npos);
  EXPECT_EQ(create({{"url", 5}, {"events", "entry.created"}}).status, 422);
  EXPECT_EQ(Call("POST", "/api/v1/sites/alpha/webhooks", callers_[kAdmin], "not json").status, 400);

  r = create({{"url", "http://127.0.0.1:9/"}, {"events", {"entry.created"}}, {"secret", "a-secret-of-my-own-1234"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const auto id = std::to_string(nlohmann::json::parse(r.body)["id"].get<std::int64_t>());
  auto p = Call("PATCH", "/api/v1/sites/alpha/webhooks/" + id, callers_[kAdmin], R"({"active":false})");
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(nlohmann::json::parse(p.body)["active"], false);
  EXPECT_EQ(
      Call("PATCH", "/api/v1/sites/alpha/webhooks/" + id, callers_[kAdmin], R"({"url":"http://10.1.1.1/"})").status,
      422);
  EXPECT_EQ(Call("DELETE", "/api/v1/sites/alpha/webhooks/" + id, callers_[kAdmin]).status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/sites/alpha/webhooks/" + id, callers_[kAdmin]).status, 404);
  auto audit = nlohmann::json::parse(Call("GET", "/api/v1/audit?action=webhook.*", callers_[kAdmin]).body)["items"];
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0]["action"], "webhook.delete");
  EXPECT_EQ(audit[1]["action"], "webhook.update");
  EXPECT_EQ(audit[2]["action"], "webhook.create");
  EXPECT_EQ(audit.dump().find("a-secret-of-my-own"), std::string::npos);
}

POSTE_INSTANTIATE_DB_TEST(WebhooksApi);

}  // namespace
}  // namespace poste::testing
