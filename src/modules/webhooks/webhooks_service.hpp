#pragma once
// The webhooks module's domain logic: per-site subscriptions (URL checked against the SSRF guard, secret
// generated or given, sealed with the master key's SecretBox and shown once), the fan-out of site events
// (kEventJobKind jobs written by EmitIn) into one delivery job per subscriber, the delivery itself
// (signed POST, attempts logged, retried by the queue with its backoff), manual redelivery and test pings,
// and the automatic disabling of a subscription whose deliveries keep failing. No HTTP routing here.
//
// Every member blocks (SQL, DNS, outbound HTTP): call it through co_await blocking(...).
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/net/http_client.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/webhooks/webhooks_types.hpp"

namespace soci {
class session;
}
namespace poste::db {
class Database;
}
namespace poste::jobs {
class JobQueue;
}

namespace poste::webhooks {

struct WebhooksOptions {
  int max_attempts = 8;         // per delivery, retried with the queue's backoff
  int auto_disable_after = 20;  // consecutive deliveries failed for good (all attempts) disable a subscription
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{10000};
  std::function<std::int64_t()> now_ms;  // epoch ms; default: the system clock
};

struct CreatedSubscription {
  Subscription subscription;
  std::string secret;  // shown once
};

class WebhooksService {
 public:
  // The client carries the target policy (the SSRF guard) and the User-Agent.
  WebhooksService(db::Database& db, jobs::JobQueue& queue, const crypto::SecretBox& secrets,
                  const net::HttpClient& client, WebhooksOptions options = {});

  // 422 with field errors (url, events, secret); 409 beyond kMaxSubscriptionsPerSite.
  CreatedSubscription Create(const audit::Origin& origin, std::int64_t site_id, const NewSubscription& request);
  std::vector<Subscription> List(std::int64_t site_id);
  // 404 when there is no such subscription on the site.
  Subscription Get(std::int64_t site_id, std::int64_t id);
  // Re-enabling (active: true) clears the failure count and the reason it was disabled.
  Subscription Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                      const SubscriptionPatch& patch);
  void Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);

  DeliveryPage Deliveries(std::int64_t site_id, std::int64_t subscription_id, int limit,
                          std::optional<std::int64_t> cursor);
  // A new delivery of the same event (same body and event id, a new Poste-Delivery), queued now, whether the
  // subscription is active or not. 404 when the delivery is not the subscription's.
  Delivery Redeliver(const audit::Origin& origin, std::int64_t site_id, std::int64_t subscription_id,
                     std::int64_t delivery_id);
  // Queues a "ping" event to this subscription alone.
  Delivery Ping(const audit::Origin& origin, std::int64_t site_id, std::int64_t subscription_id);

  // Job handlers: kEventJobKind (fan-out) and kDeliverJobKind ({site_id, delivery_id}).
  void HandleEvent(const jobs::Job& job);
  void HandleDeliver(const jobs::Job& job);

  // The URL's field errors under "url": syntax, and the SSRF guard (a host that does not resolve now is
  // accepted: delivery checks again each time).
  std::vector<FieldError> CheckUrl(const std::string& url) const;

  static std::string SecretBinding(std::int64_t site_id, std::int64_t subscription_id);

 private:
  std::int64_t Now() const;
  std::int64_t QueueDelivery(soci::session& s, const Delivery& delivery, const std::string& dedup_key);

  db::Database& db_;
  jobs::JobQueue& queue_;
  const crypto::SecretBox& secrets_;
  const net::HttpClient& client_;
  WebhooksOptions options_;
};

}  // namespace poste::webhooks
