#include "modules/webhooks/webhooks_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "db/query.hpp"

namespace poste::webhooks::store {

namespace {

using db::Query;

constexpr const char* kSubColumns =
    "id, site_id, url, events, secret, active, consecutive_failures, disabled_reason, created_at, updated_at";

struct SubRow {
  long long id = 0, site_id = 0, created_at = 0, updated_at = 0;
  int active = 0, failures = 0;
  std::string events;
  Subscription sub;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(sub.url);
    q.Into(events);
    q.Into(sub.sealed_secret);
    q.Into(active);
    q.Into(failures);
    q.Into(sub.disabled_reason);
    q.Into(created_at);
    q.Into(updated_at);
  }
  Subscription Get() const {
    Subscription out = sub;
    out.id = id, out.site_id = site_id, out.created_at = created_at, out.updated_at = updated_at;
    out.active = active != 0, out.consecutive_failures = failures;
    out.events.clear();
    auto json = nlohmann::json::parse(events, nullptr, false);
    if (json.is_array()) {
      for (const auto& e : json) {
        if (e.is_string()) out.events.push_back(e.get<std::string>());
      }
    }
    return out;
  }
};

std::vector<Subscription> SubsWhere(soci::session& s, Query& q, const std::string& condition) {
  SubRow row;
  row.BindTo(q);
  std::vector<Subscription> out;
  if (q.Execute("SELECT " + std::string(kSubColumns) + " FROM webhook_subscriptions WHERE " + condition +
                " ORDER BY id")) {
    do {
      out.push_back(row.Get());
    } while (q.Fetch());
  }
  (void)s;
  return out;
}

constexpr const char* kDeliveryColumns =
    "id, site_id, subscription_id, event_id, event_type, payload, manual, redelivery_of, status, attempts,"
    " response_status, response_ms, response_excerpt, error, created_at, updated_at";

struct DeliveryRow {
  long long id = 0, site_id = 0, sub_id = 0, redelivery_of = 0, response_ms = 0, created_at = 0, updated_at = 0;
  int manual = 0, attempts = 0, response_status = 0;
  soci::indicator redelivery_ind = soci::i_ok, status_ind = soci::i_ok, ms_ind = soci::i_ok;
  std::string status;
  Delivery d;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(sub_id);
    q.Into(d.event_id);
    q.Into(d.event_type);
    q.Into(d.payload);
    q.Into(manual);
    q.Into(redelivery_of, redelivery_ind);
    q.Into(status);
    q.Into(attempts);
    q.Into(response_status, status_ind);
    q.Into(response_ms, ms_ind);
    q.Into(d.response_excerpt);
    q.Into(d.error);
    q.Into(created_at);
    q.Into(updated_at);
  }
  Delivery Get() const {
    Delivery out = d;
    out.id = id, out.site_id = site_id, out.subscription_id = sub_id, out.created_at = created_at,
    out.updated_at = updated_at;
    out.manual = manual != 0, out.attempts = attempts;
    out.status = ParseDeliveryStatus(status);
    if (redelivery_ind == soci::i_ok) out.redelivery_of = redelivery_of;
    if (status_ind == soci::i_ok) out.response_status = response_status;
    if (ms_ind == soci::i_ok) out.response_ms = response_ms;
    return out;
  }
};

// Fills the attempt logs of the deliveries.
void LoadAttempts(soci::session& s, std::int64_t site_id, std::vector<Delivery>& deliveries) {
  if (deliveries.empty()) return;
  std::map<std::int64_t, Delivery*> by_id;
  std::vector<std::int64_t> ids;
  for (auto& d : deliveries) by_id[d.id] = &d, ids.push_back(d.id);
  Query q(s);
  long long delivery_id = 0, at = 0, ms = 0;
  int attempt = 0, status = 0;
  soci::indicator status_ind = soci::i_ok;
  Attempt a;
  q.Into(delivery_id);
  q.Into(attempt);
  q.Into(at);
  q.Into(status, status_ind);
  q.Into(ms);
  q.Into(a.response_excerpt);
  q.Into(a.error);
  if (!q.Execute("SELECT delivery_id, attempt, at, response_status, response_ms, response_excerpt, error"
                 " FROM webhook_attempts WHERE site_id = " +
                 q.Int(site_id) + " AND delivery_id IN (" + q.IntList(ids) + ") ORDER BY id")) {
    return;
  }
  do {
    Attempt row = a;
    row.attempt = attempt, row.at = at, row.response_ms = ms;
    row.response_status = status_ind == soci::i_ok ? std::optional<int>(status) : std::nullopt;
    by_id[delivery_id]->attempt_log.push_back(std::move(row));
  } while (q.Fetch());
}

}  // namespace

std::int64_t InsertSubscription(soci::session& s, const Subscription& sub, std::int64_t now_ms) {
  const long long site = sub.site_id, now = now_ms;
  const int active = sub.active ? 1 : 0;
  const std::string events = nlohmann::json(sub.events).dump();
  long long id = 0;
  s << "INSERT INTO webhook_subscriptions (site_id, url, events, secret, active, created_at, updated_at)"
       " VALUES (:site, :url, :events, :secret, :active, :created, :updated) RETURNING id",
      soci::use(site), soci::use(sub.url), soci::use(events), soci::use(sub.sealed_secret), soci::use(active),
      soci::use(now), soci::use(now), soci::into(id);
  return id;
}

std::optional<Subscription> GetSubscription(soci::session& s, std::int64_t site_id, std::int64_t id) {
  Query q(s);
  auto found = SubsWhere(s, q, "site_id = " + q.Int(site_id) + " AND id = " + q.Int(id));
  if (found.empty()) return std::nullopt;
  return found.front();
}

std::vector<Subscription> ListSubscriptions(soci::session& s, std::int64_t site_id) {
  Query q(s);
  return SubsWhere(s, q, "site_id = " + q.Int(site_id));
}

std::int64_t CountSubscriptions(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  long long n = 0;
  s << "SELECT COUNT(*) FROM webhook_subscriptions WHERE site_id = :site", soci::use(site), soci::into(n);
  return n;
}

std::vector<Subscription> SubscribersOf(soci::session& s, std::int64_t site_id, std::string_view event_type) {
  Query q(s);
  auto all = SubsWhere(s, q, "site_id = " + q.Int(site_id) + " AND active = 1");
  std::erase_if(all, [&](const Subscription& sub) {
    return std::find(sub.events.begin(), sub.events.end(), event_type) == sub.events.end();
  });
  return all;
}

bool SaveSubscription(soci::session& s, const Subscription& sub, std::int64_t now_ms) {
  const long long site = sub.site_id, id = sub.id, now = now_ms;
  const int active = sub.active ? 1 : 0, failures = sub.consecutive_failures;
  const std::string events = nlohmann::json(sub.events).dump();
  long long matched = 0;
  s << "UPDATE webhook_subscriptions SET url = :url, events = :events, secret = :secret, active = :active,"
       " consecutive_failures = :failures, disabled_reason = :reason, updated_at = :now"
       " WHERE site_id = :site AND id = :id RETURNING id",
      soci::use(sub.url), soci::use(events), soci::use(sub.sealed_secret), soci::use(active), soci::use(failures),
      soci::use(sub.disabled_reason), soci::use(now), soci::use(site), soci::use(id), soci::into(matched);
  return s.got_data();
}

bool DeleteSubscription(soci::session& s, std::int64_t site_id, std::int64_t id) {
  const long long site = site_id, sub = id;
  long long matched = 0;
  s << "DELETE FROM webhook_subscriptions WHERE site_id = :site AND id = :id RETURNING id", soci::use(site),
      soci::use(sub), soci::into(matched);
  return s.got_data();
}

std::int64_t InsertDelivery(soci::session& s, const Delivery& d, const std::string& dedup_key, std::int64_t now_ms) {
  const long long site = d.site_id, sub = d.subscription_id, now = now_ms, original = d.redelivery_of.value_or(0);
  soci::indicator original_ind = d.redelivery_of ? soci::i_ok : soci::i_null;
  const int manual = d.manual ? 1 : 0;
  long long id = 0;
  s << "INSERT INTO webhook_deliveries (site_id, subscription_id, dedup_key, event_id, event_type, payload, manual,"
       " redelivery_of, created_at, updated_at) VALUES (:site, :sub, :key, :event, :type, :payload, :manual,"
       " :original, :created, :updated) ON CONFLICT (subscription_id, dedup_key) DO NOTHING RETURNING id",
      soci::use(site), soci::use(sub), soci::use(dedup_key), soci::use(d.event_id), soci::use(d.event_type),
      soci::use(d.payload), soci::use(manual), soci::use(original, original_ind), soci::use(now), soci::use(now),
      soci::into(id);
  if (s.got_data()) return id;
  s << "SELECT id FROM webhook_deliveries WHERE subscription_id = :sub AND dedup_key = :key", soci::use(sub),
      soci::use(dedup_key), soci::into(id);
  return id;
}

std::optional<Delivery> GetDelivery(soci::session& s, std::int64_t site_id, std::int64_t id) {
  Query q(s);
  DeliveryRow row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kDeliveryColumns) +
                 " FROM webhook_deliveries WHERE site_id = " + q.Int(site_id) + " AND id = " + q.Int(id))) {
    return std::nullopt;
  }
  std::vector<Delivery> one{row.Get()};
  LoadAttempts(s, site_id, one);
  return one.front();
}

DeliveryPage ListDeliveries(soci::session& s, std::int64_t site_id, std::int64_t subscription_id, int limit,
                            std::optional<std::int64_t> cursor) {
  limit = std::clamp(limit, 1, kMaxListLimit);
  DeliveryPage page;
  {
    Query q(s);
    DeliveryRow row;
    row.BindTo(q);
    std::string sql = "SELECT " + std::string(kDeliveryColumns) +
                      " FROM webhook_deliveries WHERE site_id = " + q.Int(site_id) +
                      " AND subscription_id = " + q.Int(subscription_id);
    page = db::NewestFirst<DeliveryPage>(q, std::move(sql), cursor, limit, [&] { return row.Get(); });
  }
  LoadAttempts(s, site_id, page.items);
  return page;
}

void RecordAttempt(soci::session& s, std::int64_t site_id, std::int64_t delivery_id, const Attempt& a,
                   DeliveryStatus status) {
  const long long site = site_id, id = delivery_id, at = a.at, ms = a.response_ms;
  const int attempt = a.attempt, code = a.response_status.value_or(0);
  soci::indicator code_ind = a.response_status ? soci::i_ok : soci::i_null;
  const std::string status_name(DeliveryStatusName(status));
  long long matched = 0;
  s << "UPDATE webhook_deliveries SET status = :status, attempts = :attempt, response_status = :code,"
       " response_ms = :ms, response_excerpt = :excerpt, error = :error, updated_at = :at"
       " WHERE site_id = :site AND id = :id RETURNING id",
      soci::use(status_name), soci::use(attempt), soci::use(code, code_ind), soci::use(ms),
      soci::use(a.response_excerpt), soci::use(a.error), soci::use(at), soci::use(site), soci::use(id),
      soci::into(matched);
  if (!s.got_data()) return;  // the delivery went with its subscription
  s << "INSERT INTO webhook_attempts (site_id, delivery_id, attempt, at, response_status, response_ms,"
       " response_excerpt, error) VALUES (:site, :id, :attempt, :at, :code, :ms, :excerpt, :error)",
      soci::use(site), soci::use(id), soci::use(attempt), soci::use(at), soci::use(code, code_ind), soci::use(ms),
      soci::use(a.response_excerpt), soci::use(a.error);
}

}  // namespace poste::webhooks::store
