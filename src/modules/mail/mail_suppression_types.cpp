#include "modules/mail/mail_suppression_types.hpp"

#include <nlohmann/json.hpp>

#include "lib/mail/address.hpp"
#include "lib/mail/mime.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::mail {

std::string_view ReasonName(SuppressionReason reason) {
  switch (reason) {
    case SuppressionReason::kUnsubscribe:
      return "unsubscribe";
    case SuppressionReason::kHardBounce:
      return "hard_bounce";
    case SuppressionReason::kComplaint:
      return "complaint";
    case SuppressionReason::kManual:
      break;
  }
  return "manual";
}

std::optional<SuppressionReason> ParseReason(std::string_view name) {
  for (auto r : {SuppressionReason::kManual, SuppressionReason::kHardBounce, SuppressionReason::kUnsubscribe,
                 SuppressionReason::kComplaint}) {
    if (ReasonName(r) == name) return r;
  }
  return std::nullopt;
}

bool Outranks(SuppressionReason incoming, SuppressionReason current) {
  return static_cast<int>(incoming) > static_cast<int>(current);
}

std::optional<std::string> SuppressionAddress(std::string_view email) {
  std::string address = NormalizeAddress(email);
  if (!IsValidAddress(address)) return std::nullopt;
  address = AsciiAddress(address);
  const auto at = address.rfind('@');
  if (at == std::string::npos) return std::nullopt;
  // IDNA already lower-cases what it converts; ASCII labels next to it keep the case NormalizeAddress gave.
  return address.substr(0, at + 1) + validate::ascii::ToLower(std::string_view(address).substr(at + 1));
}

nlohmann::json ToJson(const Suppression& s) {
  return {{"id", s.id},
          {"site_id", s.site_id},
          {"email", s.email},
          {"reason", ReasonName(s.reason)},
          {"source", s.source},
          {"detail", s.detail},
          {"campaign_id", s.campaign_id ? nlohmann::json(*s.campaign_id) : nlohmann::json()},
          {"created_by", s.created_by ? nlohmann::json(*s.created_by) : nlohmann::json()},
          {"created_at", s.created_at},
          {"updated_at", s.updated_at}};
}

}  // namespace poste::mail
