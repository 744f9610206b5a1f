#include "modules/webhooks/webhooks_service.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/error.hpp"
#include "lib/net/testing/http_receiver.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/webhooks/webhook_events.hpp"
#include "modules/webhooks/webhook_signature.hpp"
#include "support/db_fixture.hpp"

namespace poste::webhooks {
namespace {

using net::testing::HttpReceiver;
using net::testing::ScriptedResponse;

class WebhooksServiceTest : public poste::testing::DbTest {
 protected:
  void SetUp() override {
    DbTest::SetUp();
    queue_ = std::make_unique<jobs::JobQueue>(
        db(), [this] { return now_; }, [] { return 0.0; });
    box_ = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(crypto::GenerateSecretKey()));
    client_ = std::make_unique<net::HttpClient>(
        net::HttpClientOptions{"Poste-Webhooks/test", net::TargetPolicy::WithAllowList({"127.0.0.1"})});
    site_ = AddSite("alpha");
    other_ = AddSite("beta");
    Build({});
  }
  void Build(WebhooksOptions options, const net::HttpClient* client = nullptr) {
    options.now_ms = [this] { return now_; };
    options.total_timeout = std::chrono::milliseconds(2000);
    service_ = std::make_unique<WebhooksService>(db(), *queue_, *box_, client ? *client : *client_, options);
  }
  std::int64_t AddSite(const std::string& slug) {
    sites::NewSite s;
    s.slug = slug;
    s.name = slug;
    return db().WriteValue([&](soci::session& session) { return sites::store::Insert(session, s, 1); });
  }
  std::string Url(const HttpReceiver& r, const std::string& path = "/hook") {
    return "http://127.0.0.1:" + std::to_string(r.port()) + path;
  }
  CreatedSubscription Subscribe(const std::string& url, std::vector<std::string> events = {"contact.received"},
                                std::int64_t site = 0) {
    NewSubscription n;
    n.url = url;
    n.events = std::move(events);
    return svc().Create(origin_, site ? site : site_, n);
  }
  void Emit(std::int64_t site, const std::string& type, nlohmann::json data) {
    db().Write([&](soci::session& s) { EmitIn(*queue_, s, site, type, data); });
  }
  // Runs every due job of the kind the way WorkerPool does; returns how many ran.
  int RunJobs(std::string_view kind) {
    int ran = 0;
    while (auto job = queue_->Claim("w", 60'000, {std::string(kind)})) {
      ++ran;
      try {
        if (kind == kEventJobKind) svc().HandleEvent(*job);
        if (kind == kDeliverJobKind) svc().HandleDeliver(*job);
        queue_->Complete(job->id, "w");
      } catch (const jobs::PermanentError& e) {
        queue_->Fail(job->id, "w", e.what(), true);
      } catch (const std::exception& e) {
        queue_->Fail(job->id, "w", e.what());
      }
    }
    return ran;
  }
  std::vector<FieldError> CreateErrors(const std::string& url, std::vector<std::string> events = {"entry.created"},
                                       std::optional<std::string> secret = std::nullopt) {
    NewSubscription n;
    n.url = url;
    n.events = std::move(events);
    n.secret = std::move(secret);
    try {
      svc().Create(origin_, site_, n);
    } catch (const AppError& e) {
      EXPECT_EQ(e.status(), 422) << url;
      return e.fields();
    }
    return {};
  }
  WebhooksService& svc() { return *service_; }

  std::int64_t now_ = 1'700'000'000'000;
  std::unique_ptr<jobs::JobQueue> queue_;
  std::unique_ptr<crypto::SecretBox> box_;
  std::unique_ptr<net::HttpClient> client_;
  std::unique_ptr<WebhooksService> service_;
  std::int64_t site_ = 0, other_ = 0;
  audit::Origin origin_{1, std::nullopt, "192.0.2.1", "req-1"};
};

TEST(WebhookSignature, SignsAndVerifies) {
  const std::string body = R"({"id":"evt_1"})";
  auto header = SignatureHeader("whsec_0123456789abcdef", 1'700'000'000, body);
  EXPECT_TRUE(header.starts_with("t=1700000000,v1="));
  EXPECT_EQ(header.size(), std::string("t=1700000000,v1=").size() + 64);
  EXPECT_TRUE(VerifySignature(header, "whsec_0123456789abcdef", body, 1'700'000'100));
  EXPECT_FALSE(VerifySignature(header, "whsec_0123456789abcdeX", body, 1'700'000'100));
  EXPECT_FALSE(VerifySignature(header, "whsec_0123456789abcdef", body + " ", 1'700'000'100));
  EXPECT_FALSE(VerifySignature(header, "whsec_0123456789abcdef", body, 1'700'001'000));  // too old: a replay
  EXPECT_FALSE(VerifySignature("t=1700000000", "whsec_0123456789abcdef", body, 1'700'000'000));
  EXPECT_FALSE(VerifySignature("t=abc,v1=00", "whsec_0123456789abcdef", body, 1'700'000'000));
  EXPECT_TRUE(VerifySignature("t=1700000000,v1=00," + header.substr(13), "whsec_0123456789abcdef", body,
                              1'700'000'000));  // any v1 may match
}

TEST(WebhookTypes, ExcerptsAreShortAndStorable) {
  EXPECT_EQ(Excerpt("ok"), "ok");
  EXPECT_EQ(Excerpt(std::string(5000, 'a')).size(), kMaxExcerptBytes);
  EXPECT_EQ(Excerpt(std::string("a\0b\xFF\xC3", 5)),
            "a\xEF\xBF\xBD"
            "b\xEF\xBF\xBD\xEF\xBF\xBD");
  std::string accents;
  for (int i = 0; i < 600; ++i) accents += "\xC3\xA9";  // 2 bytes each: the cut must not split one
  auto cut = Excerpt(accents);
  EXPECT_EQ(cut.size(), kMaxExcerptBytes);
  EXPECT_EQ(Excerpt(cut), cut);
}

TEST_P(WebhooksServiceTest, ValidatesUrlsEventsAndSecretsAndRefusesPrivateTargets) {
  HttpReceiver receiver;
  auto field_codes = [](const std::vector<FieldError>& errors) {
    std::vector<std::string> out;
    for (const auto& e : errors) out.push_back(e.field + ":" + e.code);
    return out;
  };
  EXPECT_TRUE(CreateErrors(Url(receiver)).empty()) << "127.0.0.1 is on this client's allow list";
  const auto refused = std::vector<std::string>{"url:refused_target"};
  EXPECT_EQ(field_codes(CreateErrors("http://10.0.0.1/hook")), refused);
  EXPECT_EQ(field_codes(CreateErrors("http://[::1]:8080/")), refused);
  EXPECT_EQ(field_codes(CreateErrors("http://169.254.169.254/latest/meta-data/")), refused);
  EXPECT_EQ(field_codes(CreateErrors("http://localhost:" + std::to_string(receiver.port()) + "/")).size(), 0u)
      << "localhost resolves to 127.0.0.1 here, which this client allows";
  EXPECT_EQ(field_codes(CreateErrors("http://127.0.0.2/")), refused);
  EXPECT_EQ(field_codes(CreateErrors("ftp://example.com/")), (std::vector<std::string>{"url:invalid"}));
  EXPECT_EQ(field_codes(CreateErrors("https://user:pw@example.com/")), (std::vector<std::string>{"url:invalid"}));
  EXPECT_EQ(field_codes(CreateErrors(Url(receiver), {})), (std::vector<std::string>{"events:required"}));
  EXPECT_EQ(field_codes(CreateErrors(Url(receiver), {"entry.created", "entry.exploded", "entry.created", "ping"})),
            (std::vector<std::string>{"events[1]:unknown_event", "events[2]:duplicate", "events[3]:unknown_event"}));
  EXPECT_EQ(field_codes(CreateErrors(Url(receiver), {"entry.created"}, "short")),
            (std::vector<std::string>{"secret:invalid_length"}));
  EXPECT_EQ(field_codes(CreateErrors(Url(receiver), {"entry.created"}, "has spaces in the secret")),
            (std::vector<std::string>{"secret:invalid_characters"}));

  // Without the allow list (the default), loopback is refused too, by address or by name.
  net::HttpClient strict({"Poste-Webhooks/test", net::TargetPolicy()});
  Build({}, &strict);
  EXPECT_EQ(field_codes(CreateErrors(Url(receiver))), refused);
  EXPECT_EQ(field_codes(CreateErrors("http://localhost/")), refused);
}

TEST_P(WebhooksServiceTest, SecretsAreGeneratedSealedAndAuditedWithoutTheirValue) {
  HttpReceiver receiver;
  auto created = Subscribe(Url(receiver));
  EXPECT_TRUE(created.secret.starts_with("whsec_"));
  EXPECT_GE(created.secret.size(), 40u);
  EXPECT_EQ(created.subscription.sealed_secret.find(created.secret), std::string::npos);
  EXPECT_EQ(
      box_->Open(created.subscription.sealed_secret, WebhooksService::SecretBinding(site_, created.subscription.id)),
      created.secret);
  NewSubscription given;
  given.url = Url(receiver);
  given.events = {"entry.created"};
  given.secret = "my-own-secret-0123456789";
  EXPECT_EQ(svc().Create(origin_, site_, given).secret, "my-own-secret-0123456789");

  SubscriptionPatch patch;
  patch.secret = "rotated-secret-0123456789";
  patch.events = std::vector<std::string>{"entry.created", "entry.deleted"};
  auto updated = svc().Update(origin_, site_, created.subscription.id, patch);
  EXPECT_EQ(updated.events.size(), 2u);
  svc().Delete(origin_, site_, created.subscription.id);
  EXPECT_THROW(svc().Get(site_, created.subscription.id), AppError);
  auto log = audit::AuditService(db()).List({});
  ASSERT_EQ(log.items.size(), 4u);
  EXPECT_EQ(log.items[3].action, "webhook.create");
  EXPECT_EQ(log.items[1].action, "webhook.update");
  EXPECT_EQ(log.items[1].changes["secret"]["to"], "[redacted]");
  EXPECT_EQ(log.items[0].action, "webhook.delete");
  for (const auto& e : log.items) {
    EXPECT_EQ(e.changes.dump().find("rotated-secret"), std::string::npos);
    EXPECT_EQ(e.changes.dump().find(created.secret), std::string::npos);
  }
}

TEST_P(WebhooksServiceTest, AnEventFansOutToActiveSubscribersAndIsDeliveredSigned) {
  HttpReceiver receiver;
  auto wanted = Subscribe(Url(receiver, "/a"), {"contact.received", "entry.created"});
  auto other_type = Subscribe(Url(receiver, "/b"), {"entry.deleted"});
  auto inactive = Subscribe(Url(receiver, "/c"));
  SubscriptionPatch off;
  off.active = false;
  svc().Update(origin_, site_, inactive.subscription.id, off);
  Subscribe(Url(receiver, "/d"), {"contact.received"}, other_);  // another site's

  Emit(site_, "contact.received", {{"contact_id", 42}});
  auto event_job = queue_->Claim("w", 60'000, {std::string(kEventJobKind)});
  ASSERT_TRUE(event_job);
  svc().HandleEvent(*event_job);
  svc().HandleEvent(*event_job);  // a second run (expired lease) adds nothing
  queue_->Complete(event_job->id, "w");
  EXPECT_EQ(RunJobs(kDeliverJobKind), 1);

  auto got = receiver.Requests();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/a");
  EXPECT_EQ(got[0].headers["content-type"], "application/json");
  EXPECT_EQ(got[0].headers["user-agent"], "Poste-Webhooks/test");
  EXPECT_EQ(got[0].headers["poste-event"], "contact.received");
  EXPECT_EQ(got[0].body, event_job->payload);
  EXPECT_TRUE(VerifySignature(got[0].headers["poste-signature"], wanted.secret, got[0].body, now_ / 1000));
  EXPECT_FALSE(VerifySignature(got[0].headers["poste-signature"], other_type.secret, got[0].body, now_ / 1000));
  auto event = nlohmann::json::parse(got[0].body);
  EXPECT_EQ(event["data"]["contact_id"], 42);

  auto page = svc().Deliveries(site_, wanted.subscription.id, 10, std::nullopt);
  ASSERT_EQ(page.items.size(), 1u);
  const auto& d = page.items[0];
  EXPECT_EQ(got[0].headers["poste-delivery"], std::to_string(d.id));
  EXPECT_EQ(d.status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(d.event_id, event["id"]);
  EXPECT_EQ(d.attempts, 1);
  EXPECT_EQ(d.response_status, 200);
  EXPECT_EQ(d.response_excerpt, "ok");
  ASSERT_EQ(d.attempt_log.size(), 1u);
  EXPECT_EQ(d.attempt_log[0].at, now_);
  EXPECT_GE(d.attempt_log[0].response_ms, 0);
  EXPECT_TRUE(svc().Deliveries(site_, other_type.subscription.id, 10, std::nullopt).items.empty());
  EXPECT_TRUE(svc().Deliveries(site_, inactive.subscription.id, 10, std::nullopt).items.empty());
  // Another site's subscription is not reachable through this site.
  EXPECT_THROW(svc().Deliveries(other_, wanted.subscription.id, 10, std::nullopt), AppError);
}

TEST_P(WebhooksServiceTest, FailedAttemptsAreLoggedAndRetriedWithBackoff) {
  HttpReceiver receiver;
  receiver.Script({{500, "boom " + std::string(3000, 'x')}, {503, "later"}});
  auto sub = Subscribe(Url(receiver));
  Emit(site_, "contact.received", {{"contact_id", 1}});
  RunJobs(kEventJobKind);
  EXPECT_EQ(RunJobs(kDeliverJobKind), 1);
  EXPECT_EQ(RunJobs(kDeliverJobKind), 0) << "a retry must wait for its backoff";
  now_ += 2'001;
  EXPECT_EQ(RunJobs(kDeliverJobKind), 1);
  now_ += 4'001;
  EXPECT_EQ(RunJobs(kDeliverJobKind), 1);
  auto got = receiver.Requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].headers["poste-delivery"], got[2].headers["poste-delivery"]);
  EXPECT_EQ(got[0].body, got[2].body);
  EXPECT_TRUE(VerifySignature(got[2].headers["poste-signature"], sub.secret, got[2].body, now_ / 1000));

  auto d = svc().Deliveries(site_, sub.subscription.id, 10, std::nullopt).items.at(0);
  EXPECT_EQ(d.status, DeliveryStatus::kSucceeded);
  EXPECT_EQ(d.attempts, 3);
  ASSERT_EQ(d.attempt_log.size(), 3u);
  EXPECT_EQ(d.attempt_log[0].response_status, 500);
  EXPECT_EQ(d.attempt_log[0].error, "HTTP 500");
  EXPECT_EQ(d.attempt_log[0].response_excerpt.size(), kMaxExcerptBytes);
  EXPECT_TRUE(d.attempt_log[0].response_excerpt.starts_with("boom "));
  EXPECT_EQ(d.attempt_log[1].response_status, 503);
  EXPECT_EQ(d.attempt_log[1].response_excerpt, "later");
  EXPECT_EQ(d.attempt_log[2].response_status, 200);
  EXPECT_EQ(d.attempt_log[2].attempt, 3);
  EXPECT_EQ(svc().Get(site_, sub.subscription.id).consecutive_failures, 0);
}

TEST_P(WebhooksServiceTest, RedeliveryAndPingSendAgainUnderANewDeliveryId) {
  HttpReceiver receiver;
  auto sub = Subscribe(Url(receiver));
  Emit(site_, "contact.received", {{"contact_id", 7}});
  RunJobs(kEventJobKind);
  RunJobs(kDeliverJobKind);
  auto first = svc().Deliveries(site_, sub.subscription.id, 10, std::nullopt).items.at(0);
  auto again = svc().Redeliver(origin_, site_, sub.subscription.id, first.id);
  EXPECT_NE(again.id, first.id);
  EXPECT_EQ(again.redelivery_of, first.id);
  EXPECT_TRUE(again.manual);
  EXPECT_EQ(again.status, DeliveryStatus::kPending);
  auto ping = svc().Ping(origin_, site_, sub.subscription.id);
  EXPECT_EQ(ping.event_type, "ping");
  EXPECT_EQ(RunJobs(kDeliverJobKind), 2);
  auto got = receiver.Requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].body, got[0].body);
  EXPECT_EQ(got[1].headers["poste-delivery"], std::to_string(again.id));
  EXPECT_EQ(got[2].headers["poste-event"], "ping");
  EXPECT_EQ(nlohmann::json::parse(got[2].body)["data"]["subscription_id"], sub.subscription.id);
  EXPECT_TRUE(VerifySignature(got[2].headers["poste-signature"], sub.secret, got[2].body, now_ / 1000));
  auto page = svc().Deliveries(site_, sub.subscription.id, 2, std::nullopt);
  ASSERT_EQ(page.items.size(), 2u);
  EXPECT_EQ(page.items[0].id, ping.id);
  ASSERT_TRUE(page.next_cursor);
  EXPECT_EQ(svc().Deliveries(site_, sub.subscription.id, 2, page.next_cursor).items.at(0).id, first.id);
  // A delivery of another subscription, or of another site, cannot be redelivered through this one.
  auto other = Subscribe(Url(receiver));
  EXPECT_THROW(svc().Redeliver(origin_, site_, other.subscription.id, first.id), AppError);
  EXPECT_THROW(svc().Redeliver(origin_, other_, sub.subscription.id, first.id), AppError);
  EXPECT_THROW(svc().Ping(origin_, other_, sub.subscription.id), AppError);
}

TEST_P(WebhooksServiceTest, RepeatedFailuresDisableTheSubscription) {
  HttpReceiver receiver;
  WebhooksOptions options;
  options.max_attempts = 2;
  options.auto_disable_after = 2;
  Build(options);
  receiver.Script({{500}, {500}, {500}, {500}});
  auto sub = Subscribe(Url(receiver));
  for (int i = 0; i < 2; ++i) {
    Emit(site_, "contact.received", {{"contact_id", i}});
    RunJobs(kEventJobKind);
    RunJobs(kDeliverJobKind);
    now_ += 5'000;
    RunJobs(kDeliverJobKind);
  }
  EXPECT_EQ(receiver.Count(), 4u);
  auto disabled = svc().Get(site_, sub.subscription.id);
  EXPECT_FALSE(disabled.active);
  EXPECT_EQ(disabled.consecutive_failures, 2);
  EXPECT_EQ(disabled.disabled_reason, "2 consecutive deliveries failed");
  for (const auto& d : svc().Deliveries(site_, sub.subscription.id, 10, std::nullopt).items) {
    EXPECT_EQ(d.status, DeliveryStatus::kFailed);
    EXPECT_EQ(d.attempts, 2);
  }
  auto log = audit::AuditService(db()).List({});
  ASSERT_FALSE(log.items.empty());
  EXPECT_EQ(log.items[0].action, "webhook.auto_disable");
  EXPECT_FALSE(log.items[0].actor_user_id.has_value());
  EXPECT_EQ(log.items[0].site_id, site_);

  // Disabled: new events are not sent to it.
  Emit(site_, "contact.received", {{"contact_id", 9}});
  RunJobs(kEventJobKind);
  EXPECT_EQ(RunJobs(kDeliverJobKind), 0);
  // Re-enabled: the count starts over and events flow again.
  SubscriptionPatch on;
  on.active = true;
  auto enabled = svc().Update(origin_, site_, sub.subscription.id, on);
  EXPECT_TRUE(enabled.active);
  EXPECT_EQ(enabled.consecutive_failures, 0);
  EXPECT_EQ(enabled.disabled_reason, "");
  Emit(site_, "contact.received", {{"contact_id", 10}});
  RunJobs(kEventJobKind);
  EXPECT_EQ(RunJobs(kDeliverJobKind), 1);
  EXPECT_EQ(receiver.Count(), 5u);
}

TEST_P(WebhooksServiceTest, DeliveryChecksTheTargetAgainAndNeverConnectsToARefusedOne) {
  HttpReceiver receiver;
  auto sub = Subscribe(Url(receiver));  // accepted while 127.0.0.1 was allowed
  // The policy changed (or the name now resolves elsewhere): the delivery is refused for good, unsent.
  net::HttpClient strict({"Poste-Webhooks/test", net::TargetPolicy()});
  Build({}, &strict);
  Emit(site_, "contact.received", {{"contact_id", 1}});
  RunJobs(kEventJobKind);
  EXPECT_EQ(RunJobs(kDeliverJobKind), 1);
  now_ += 3'600'000;
  EXPECT_EQ(RunJobs(kDeliverJobKind), 0) << "a refused target is not retried";
  EXPECT_EQ(receiver.Count(), 0u);
  auto d = svc().Deliveries(site_, sub.subscription.id, 10, std::nullopt).items.at(0);
  EXPECT_EQ(d.status, DeliveryStatus::kFailed);
  EXPECT_FALSE(d.response_status.has_value());
  EXPECT_NE(d.error.find("not a public address"), std::string::npos) << d.error;
}

TEST_P(WebhooksServiceTest, ConnectionErrorsAndTimeoutsAreRetriedFailures) {
  std::uint16_t closed = 0;
  {
    HttpReceiver gone;
    closed = gone.port();
  }
  auto sub = Subscribe("http://127.0.0.1:" + std::to_string(closed) + "/");
  Emit(site_, "contact.received", {{"contact_id", 1}});
  RunJobs(kEventJobKind);
  EXPECT_EQ(RunJobs(kDeliverJobKind), 1);
  auto d = svc().Deliveries(site_, sub.subscription.id, 10, std::nullopt).items.at(0);
  EXPECT_EQ(d.status, DeliveryStatus::kPending);
  EXPECT_FALSE(d.response_status.has_value());
  EXPECT_NE(d.error.find("could not connect"), std::string::npos) << d.error;
  now_ += 3'000;
  EXPECT_EQ(RunJobs(kDeliverJobKind), 1) << "retried";
}

POSTE_INSTANTIATE_DB_TEST(WebhooksServiceTest);

}  // namespace
}  // namespace poste::webhooks
