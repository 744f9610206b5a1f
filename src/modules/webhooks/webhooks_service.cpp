#include "modules/webhooks/webhooks_service.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/crypto/random.hpp"
#include "lib/ids.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/webhooks/webhook_events.hpp"
#include "modules/webhooks/webhook_signature.hpp"
#include "modules/webhooks/webhooks_store.hpp"

namespace poste::webhooks {

namespace {

AppError NoSubscription() { return AppError::NotFound("No such webhook."); }

void ThrowIfAny(std::vector<FieldError> errors) {
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
}

bool Is2xx(int status) { return status >= 200 && status < 300; }

// The job's payload {site_id, <key>}: a malformed one cannot get better by retrying.
std::pair<std::int64_t, std::int64_t> SiteAndId(const jobs::Job& job, const char* key) {
  auto json = nlohmann::json::parse(job.payload, nullptr, false);
  if (!json.is_object() || !json.contains("site_id") || !json["site_id"].is_number_integer() || !json.contains(key) ||
      !json[key].is_number_integer()) {
    throw jobs::PermanentError(job.kind + ": malformed payload");
  }
  return {json["site_id"].get<std::int64_t>(), json[key].get<std::int64_t>()};
}

nlohmann::json Snapshot(const Subscription& s) { return {{"url", s.url}, {"events", s.events}, {"active", s.active}}; }

}  // namespace

WebhooksService::WebhooksService(db::Database& db, jobs::JobQueue& queue, const crypto::SecretBox& secrets,
                                 const net::HttpClient& client, WebhooksOptions options)
    : db_(db), queue_(queue), secrets_(secrets), client_(client), options_(std::move(options)) {}

std::int64_t WebhooksService::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string WebhooksService::SecretBinding(std::int64_t site_id, std::int64_t subscription_id) {
  return "site:" + std::to_string(site_id) + ":webhook:" + std::to_string(subscription_id);
}

std::vector<FieldError> WebhooksService::CheckUrl(const std::string& url) const {
  std::string why;
  auto parsed = net::ParseHttpUrl(url, &why);
  if (!parsed) return {{"url", "invalid", "the URL " + why}};
  try {
    client_.CheckTarget(*parsed);
  } catch (const net::HttpError& e) {
    if (e.kind() == net::HttpErrorKind::kRefusedTarget) {
      return {{"url", "refused_target",
               "private, loopback and link-local addresses are not allowed: " + std::string(e.what())}};
    }
    // kResolve: the name may exist later (or only where deliveries run); each delivery checks again.
  }
  return {};
}

CreatedSubscription WebhooksService::Create(const audit::Origin& origin, std::int64_t site_id,
                                            const NewSubscription& request) {
  auto errors = CheckUrl(request.url);
  auto event_errors = ValidateEvents(request.events);
  errors.insert(errors.end(), event_errors.begin(), event_errors.end());
  if (request.secret) {
    auto secret_errors = ValidateSecret(*request.secret);
    errors.insert(errors.end(), secret_errors.begin(), secret_errors.end());
  }
  ThrowIfAny(std::move(errors));
  const std::string secret = request.secret.value_or("whsec_" + crypto::RandomToken(32));
  const auto now = Now();
  auto created = db_.WriteValue([&](soci::session& s) {
    if (store::CountSubscriptions(s, site_id) >= kMaxSubscriptionsPerSite) {
      throw AppError::Conflict("A site has at most " + std::to_string(kMaxSubscriptionsPerSite) + " webhooks.");
    }
    Subscription sub;
    sub.site_id = site_id;
    sub.url = request.url;
    sub.events = request.events;
    sub.active = request.active;
    sub.sealed_secret = "pending";  // sealed below, bound to the id the insert gives
    sub.id = store::InsertSubscription(s, sub, now);
    sub.sealed_secret = secrets_.Seal(secret, SecretBinding(site_id, sub.id));
    store::SaveSubscription(s, sub, now);
    audit::Record(
        s, audit::EntryFrom(origin, "webhook.create", "webhook", std::to_string(sub.id), site_id, Snapshot(sub)));
    auto stored = store::GetSubscription(s, site_id, sub.id);
    if (!stored) throw AppError::Internal("webhook vanished after insert");
    return *stored;
  });
  return {std::move(created), secret};
}

std::vector<Subscription> WebhooksService::List(std::int64_t site_id) {
  return db_.ReadValue([&](soci::session& s) { return store::ListSubscriptions(s, site_id); });
}

Subscription WebhooksService::Get(std::int64_t site_id, std::int64_t id) {
  auto found = db_.ReadValue([&](soci::session& s) { return store::GetSubscription(s, site_id, id); });
  if (!found) throw NoSubscription();
  return *found;
}

Subscription WebhooksService::Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                                     const SubscriptionPatch& patch) {
  std::vector<FieldError> errors;
  if (patch.url) errors = CheckUrl(*patch.url);
  if (patch.events) {
    auto more = ValidateEvents(*patch.events);
    errors.insert(errors.end(), more.begin(), more.end());
  }
  if (patch.secret) {
    auto more = ValidateSecret(*patch.secret);
    errors.insert(errors.end(), more.begin(), more.end());
  }
  ThrowIfAny(std::move(errors));
  const auto now = Now();
  return db_.WriteValue([&](soci::session& s) {
    auto before = store::GetSubscription(s, site_id, id);
    if (!before) throw NoSubscription();
    Subscription after = *before;
    if (patch.url) after.url = *patch.url;
    if (patch.events) after.events = *patch.events;
    if (patch.secret) after.sealed_secret = secrets_.Seal(*patch.secret, SecretBinding(site_id, id));
    if (patch.active) {
      after.active = *patch.active;
      if (*patch.active) after.consecutive_failures = 0, after.disabled_reason.clear();
    }
    store::SaveSubscription(s, after, now);
    nlohmann::json changes = nlohmann::json::object();
    const auto b = Snapshot(*before), a = Snapshot(after);
    for (const auto& [key, value] : a.items()) {
      if (b[key] != value) changes[key] = {{"from", b[key]}, {"to", value}};
    }
    if (patch.secret) changes["secret"] = {{"from", audit::kRedacted}, {"to", audit::kRedacted}};
    if (!changes.empty()) {
      audit::Record(s, audit::EntryFrom(origin, "webhook.update", "webhook", std::to_string(id), site_id, changes));
    }
    auto stored = store::GetSubscription(s, site_id, id);
    if (!stored) throw NoSubscription();
    return *stored;
  });
}

void WebhooksService::Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  db_.Write([&](soci::session& s) {
    auto before = store::GetSubscription(s, site_id, id);
    if (!before || !store::DeleteSubscription(s, site_id, id)) throw NoSubscription();
    audit::Record(
        s, audit::EntryFrom(origin, "webhook.delete", "webhook", std::to_string(id), site_id, Snapshot(*before)));
  });
}

DeliveryPage WebhooksService::Deliveries(std::int64_t site_id, std::int64_t subscription_id, int limit,
                                         std::optional<std::int64_t> cursor) {
  return db_.ReadValue([&](soci::session& s) {
    if (!store::GetSubscription(s, site_id, subscription_id)) throw NoSubscription();
    return store::ListDeliveries(s, site_id, subscription_id, limit, cursor);
  });
}

std::int64_t WebhooksService::QueueDelivery(soci::session& s, const Delivery& delivery, const std::string& dedup_key) {
  const auto id = store::InsertDelivery(s, delivery, dedup_key, Now());
  jobs::EnqueueOptions options;
  options.max_attempts = options_.max_attempts;
  options.idempotency_key = "webhook.deliver:" + dedup_key + ":" + std::to_string(delivery.subscription_id);
  queue_.EnqueueIn(s, kDeliverJobKind, nlohmann::json{{"site_id", delivery.site_id}, {"delivery_id", id}}.dump(),
                   options);
  return id;
}

Delivery WebhooksService::Redeliver(const audit::Origin& origin, std::int64_t site_id, std::int64_t subscription_id,
                                    std::int64_t delivery_id) {
  auto delivery = db_.WriteValue([&](soci::session& s) {
    auto original = store::GetDelivery(s, site_id, delivery_id);
    if (!original || original->subscription_id != subscription_id) {
      throw AppError::NotFound("No such delivery.");
    }
    Delivery copy;
    copy.site_id = site_id;
    copy.subscription_id = subscription_id;
    copy.event_id = original->event_id;
    copy.event_type = original->event_type;
    copy.payload = original->payload;
    copy.manual = true;
    copy.redelivery_of = original->id;
    const auto id = QueueDelivery(s, copy, "redeliver:" + RandomHex(12));
    audit::Record(s, audit::EntryFrom(origin, "webhook.redeliver", "webhook", std::to_string(subscription_id), site_id,
                                      {{"delivery_id", original->id}, {"new_delivery_id", id}}));
    return *store::GetDelivery(s, site_id, id);
  });
  queue_.NotifyEnqueued();
  return delivery;
}

Delivery WebhooksService::Ping(const audit::Origin& origin, std::int64_t site_id, std::int64_t subscription_id) {
  auto delivery = db_.WriteValue([&](soci::session& s) {
    if (!store::GetSubscription(s, site_id, subscription_id)) throw NoSubscription();
    const std::string event_id = "evt_" + RandomHex(16);
    Delivery ping;
    ping.site_id = site_id;
    ping.subscription_id = subscription_id;
    ping.event_id = event_id;
    ping.event_type = std::string(kPingEvent);
    ping.payload = nlohmann::json{{"id", event_id},
                                  {"type", kPingEvent},
                                  {"site_id", site_id},
                                  {"occurred_at", Now()},
                                  {"data", {{"subscription_id", subscription_id}}}}
                       .dump();
    ping.manual = true;
    const auto id = QueueDelivery(s, ping, "ping:" + event_id);
    audit::Record(s, audit::EntryFrom(origin, "webhook.test", "webhook", std::to_string(subscription_id), site_id,
                                      {{"delivery_id", id}}));
    return *store::GetDelivery(s, site_id, id);
  });
  queue_.NotifyEnqueued();
  return delivery;
}

void WebhooksService::HandleEvent(const jobs::Job& job) {
  auto event = nlohmann::json::parse(job.payload, nullptr, false);
  if (!event.is_object() || !event.contains("id") || !event["id"].is_string() || !event.contains("type") ||
      !event["type"].is_string() || !event.contains("site_id") || !event["site_id"].is_number_integer()) {
    throw jobs::PermanentError("webhook.event: malformed payload");
  }
  const std::int64_t site_id = event["site_id"];
  const std::string event_id = event["id"], type = event["type"];
  db_.Write([&](soci::session& s) {
    // Safe to run twice: a delivery exists once per (subscription, event), and its job once per key.
    for (const auto& sub : store::SubscribersOf(s, site_id, type)) {
      Delivery d;
      d.site_id = site_id;
      d.subscription_id = sub.id;
      d.event_id = event_id;
      d.event_type = type;
      d.payload = job.payload;
      QueueDelivery(s, d, event_id);
    }
  });
  queue_.NotifyEnqueued();
}

void WebhooksService::HandleDeliver(const jobs::Job& job) {
  const auto [site_id, delivery_id] = SiteAndId(job, "delivery_id");
  auto delivery = db_.ReadValue([&](soci::session& s) { return store::GetDelivery(s, site_id, delivery_id); });
  if (!delivery || delivery->status != DeliveryStatus::kPending) return;  // gone, or already settled
  auto sub =
      db_.ReadValue([&](soci::session& s) { return store::GetSubscription(s, site_id, delivery->subscription_id); });
  if (!sub) return;
  Attempt attempt;
  attempt.attempt = job.attempts;
  attempt.at = Now();
  if (!sub->active && !delivery->manual) {
    attempt.error = "the webhook is disabled";
    db_.Write(
        [&](soci::session& s) { store::RecordAttempt(s, site_id, delivery_id, attempt, DeliveryStatus::kSkipped); });
    return;
  }

  const std::string secret = secrets_.Open(sub->sealed_secret, SecretBinding(site_id, sub->id));
  net::HttpRequest request;
  request.method = "POST";
  request.url = sub->url;
  request.body = delivery->payload;
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = options_.total_timeout;
  request.max_response_bytes = kMaxExcerptBytes * 4;  // enough for the excerpt after replacements
  request.headers = {{"Content-Type", "application/json"},
                     {"Poste-Signature", SignatureHeader(secret, attempt.at / 1000, request.body)},
                     {"Poste-Event", delivery->event_type},
                     {"Poste-Delivery", std::to_string(delivery_id)}};
  bool success = false, refused = false;
  try {
    auto response = client_.Send(request);
    attempt.response_status = response.status;
    attempt.response_ms = response.elapsed_ms;
    attempt.response_excerpt = Excerpt(response.body);
    success = Is2xx(response.status);
    if (!success) attempt.error = "HTTP " + std::to_string(response.status);
  } catch (const net::HttpError& e) {
    attempt.error = Excerpt(e.what());
    attempt.response_ms = Now() - attempt.at;
    refused = e.kind() == net::HttpErrorKind::kRefusedTarget || e.kind() == net::HttpErrorKind::kInvalidRequest;
  }
  const bool final_failure = !success && (refused || job.attempts >= job.max_attempts);
  const auto status = success         ? DeliveryStatus::kSucceeded
                      : final_failure ? DeliveryStatus::kFailed
                                      : DeliveryStatus::kPending;
  db_.Write([&](soci::session& s) {
    store::RecordAttempt(s, site_id, delivery_id, attempt, status);
    auto current = store::GetSubscription(s, site_id, sub->id);
    if (!current) return;
    if (success && current->consecutive_failures != 0) {
      current->consecutive_failures = 0;
      store::SaveSubscription(s, *current, Now());
    } else if (final_failure && !delivery->manual) {
      ++current->consecutive_failures;
      if (current->active && current->consecutive_failures >= options_.auto_disable_after) {
        current->active = false;
        current->disabled_reason = std::to_string(current->consecutive_failures) + " consecutive deliveries failed";
        audit::Origin system;
        system.request_id = "job:" + std::to_string(job.id);
        audit::Record(s, audit::EntryFrom(
                             system, "webhook.auto_disable", "webhook", std::to_string(current->id), site_id,
                             {{"consecutive_failures", current->consecutive_failures}, {"last_error", attempt.error}}));
        spdlog::warn("webhook {} of site {} disabled after {} failed deliveries", current->id, site_id,
                     current->consecutive_failures);
      }
      store::SaveSubscription(s, *current, Now());
    }
  });
  if (success) return;
  if (refused) throw jobs::PermanentError("webhook.deliver: " + attempt.error);
  throw std::runtime_error("webhook.deliver: " + attempt.error);
}

}  // namespace poste::webhooks
