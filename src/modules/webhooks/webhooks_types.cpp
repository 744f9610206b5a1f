#include "modules/webhooks/webhooks_types.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "lib/validate/text.hpp"
#include "modules/webhooks/webhook_events.hpp"

namespace poste::webhooks {

std::string_view DeliveryStatusName(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::kSucceeded:
      return "succeeded";
    case DeliveryStatus::kFailed:
      return "failed";
    case DeliveryStatus::kSkipped:
      return "skipped";
    case DeliveryStatus::kPending:
      break;
  }
  return "pending";
}

DeliveryStatus ParseDeliveryStatus(std::string_view name) {
  if (name == "succeeded") return DeliveryStatus::kSucceeded;
  if (name == "failed") return DeliveryStatus::kFailed;
  if (name == "skipped") return DeliveryStatus::kSkipped;
  return DeliveryStatus::kPending;
}

nlohmann::json ToJson(const Subscription& s) {
  return {{"id", s.id},
          {"site_id", s.site_id},
          {"url", s.url},
          {"events", s.events},
          {"active", s.active},
          {"consecutive_failures", s.consecutive_failures},
          {"disabled_reason", s.disabled_reason},
          {"secret_set", true},
          {"created_at", s.created_at},
          {"updated_at", s.updated_at}};
}

nlohmann::json ToJson(const Delivery& d) {
  nlohmann::json attempts = nlohmann::json::array();
  for (const auto& a : d.attempt_log) {
    attempts.push_back({{"attempt", a.attempt},
                        {"at", a.at},
                        {"response_status", a.response_status ? nlohmann::json(*a.response_status) : nlohmann::json()},
                        {"response_ms", a.response_ms},
                        {"response_excerpt", a.response_excerpt},
                        {"error", a.error}});
  }
  auto payload = nlohmann::json::parse(d.payload, nullptr, false);
  return {{"id", d.id},
          {"subscription_id", d.subscription_id},
          {"event_id", d.event_id},
          {"event_type", d.event_type},
          {"manual", d.manual},
          {"redelivery_of", d.redelivery_of ? nlohmann::json(*d.redelivery_of) : nlohmann::json()},
          {"status", DeliveryStatusName(d.status)},
          {"attempts", d.attempts},
          {"response_status", d.response_status ? nlohmann::json(*d.response_status) : nlohmann::json()},
          {"response_ms", d.response_ms ? nlohmann::json(*d.response_ms) : nlohmann::json()},
          {"response_excerpt", d.response_excerpt},
          {"error", d.error},
          {"created_at", d.created_at},
          {"updated_at", d.updated_at},
          {"payload", payload.is_discarded() ? nlohmann::json() : payload},
          {"attempt_log", std::move(attempts)}};
}

std::vector<FieldError> ValidateEvents(const std::vector<std::string>& events, std::string_view field) {
  const std::string f(field);
  if (events.empty()) return {{f, "required", "at least one event type"}};
  std::vector<FieldError> errors;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const std::string at = f + "[" + std::to_string(i) + "]";
    if (!IsEventType(events[i])) {
      errors.push_back({at, "unknown_event", "not a known event type"});
    } else if (!seen.insert(events[i]).second) {
      errors.push_back({at, "duplicate", "listed twice"});
    }
  }
  return errors;
}

std::vector<FieldError> ValidateSecret(std::string_view secret, std::string_view field) {
  const std::string f(field);
  if (secret.size() < kMinSecretBytes || secret.size() > kMaxSecretBytes) {
    return {{f, "invalid_length",
             "from " + std::to_string(kMinSecretBytes) + " to " + std::to_string(kMaxSecretBytes) + " characters"}};
  }
  if (!std::all_of(secret.begin(), secret.end(), [](char c) { return c > 0x20 && c < 0x7F; })) {
    return {{f, "invalid_characters", "printable ASCII without spaces"}};
  }
  return {};
}

std::string Excerpt(std::string_view body) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  std::size_t i = 0;
  while (i < body.size()) {
    const auto lead = static_cast<unsigned char>(body[i]);
    const std::size_t len = lead < 0x80           ? 1
                            : (lead >> 5) == 0x6  ? 2
                            : (lead >> 4) == 0xE  ? 3
                            : (lead >> 3) == 0x1E ? 4
                                                  : 1;
    const auto piece = body.substr(i, len);
    const bool valid = piece.size() == len && validate::IsValidUtf8(piece) && lead != 0;
    const std::string_view emit = valid ? piece : kReplacement;
    if (out.size() + emit.size() > kMaxExcerptBytes) break;
    out += emit;
    i += valid ? len : 1;
  }
  return out;
}

}  // namespace poste::webhooks
