#include "modules/mail/provider_events_types.hpp"

#include <nlohmann/json.hpp>

#include "lib/mail/sigv4.hpp"

namespace poste::mail {

namespace {

bool IsDigits(std::string_view s, std::size_t min, std::size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

nlohmann::json OrNull(const std::optional<std::int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }

}  // namespace

ProviderEndpointInput ProviderEndpointInputFromJson(const nlohmann::json& json, bool creating,
                                                    std::vector<FieldError>& errors) {
  ProviderEndpointInput in;
  for (const auto& [key, value] : json.items()) {
    if (key == "account_id" && creating) {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1) {
        errors.push_back({"account_id", "invalid_type", "must be a positive integer"});
      } else {
        in.account_id = value.get<std::int64_t>();
      }
    } else if (key == "verification_key" || key == "topic_arn") {
      if (!value.is_string()) {
        errors.push_back({key, "invalid_type", "must be a string"});
        continue;
      }
      (key == "topic_arn" ? in.topic_arn : in.verification_key) = value.get<std::string>();
    } else {
      errors.push_back({key, "unknown", "is not a field of an event endpoint"});
    }
  }
  if (creating && !in.account_id && errors.empty()) errors.push_back({"account_id", "required", "is required"});
  return in;
}

bool IsSnsTopicArn(std::string_view arn) {
  if (arn.size() > kMaxTopicArnBytes) return false;
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (parts.size() < 6) {
    const auto colon = arn.find(':', start);
    if (colon == std::string_view::npos || parts.size() == 5) {
      parts.push_back(arn.substr(start));
      break;
    }
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sns") return false;
  if (parts[1] != "aws" && parts[1] != "aws-cn" && parts[1] != "aws-us-gov") return false;
  if (!IsValidAwsRegion(parts[3])) return false;
  if (!IsDigits(parts[4], 12, 12)) return false;
  auto name = parts[5];
  if (name.size() > 5 && name.substr(name.size() - 5) == ".fifo") name = name.substr(0, name.size() - 5);
  if (name.empty() || name.size() > 256) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) {
      return false;
    }
  }
  return true;
}

std::string ProviderEventsPath(std::string_view provider, std::string_view token) {
  return "/api/v1/mail/events/" + std::string(provider) + "/" + std::string(token);
}

nlohmann::json ToJson(const ProviderEndpoint& e) {
  return {{"id", e.id},
          {"account_id", e.account_id},
          {"provider", e.provider},
          {"verification_key", e.verification_key},
          {"topic_arn", e.topic_arn},
          {"confirmed_at", OrNull(e.confirmed_at)},
          {"last_event_at", OrNull(e.last_event_at)},
          {"created_at", e.created_at},
          {"updated_at", e.updated_at}};
}

}  // namespace poste::mail
