#include "modules/webhooks/webhook_events.hpp"

#include <stdexcept>
#include <string>

#include "jobs/job_queue.hpp"
#include "lib/ids.hpp"

namespace poste::webhooks {

bool IsEventType(std::string_view type) {
  for (auto known : kEventTypes) {
    if (known == type) return true;
  }
  return false;
}

void EmitIn(jobs::JobQueue& queue, soci::session& tx, std::int64_t site_id, std::string_view type,
            const nlohmann::json& data) {
  if (!IsEventType(type)) throw std::invalid_argument("unknown webhook event type: " + std::string(type));
  const std::string id = RandomHex(16);
  nlohmann::json event = {
      {"id", "evt_" + id}, {"type", type}, {"site_id", site_id}, {"occurred_at", queue.NowMs()}, {"data", data}};
  jobs::EnqueueOptions options;
  options.idempotency_key = "webhook.event:" + id;
  queue.EnqueueIn(tx, kEventJobKind, event.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), options);
}

}  // namespace poste::webhooks
