#include "modules/audit/audit_types.hpp"

namespace poste::audit {

namespace {
nlohmann::json OrNull(const std::optional<std::int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); }
}  // namespace

AuditEntry EntryFrom(const Origin& origin, std::string action, std::string object_type, std::string object_id,
                     std::optional<std::int64_t> site_id, nlohmann::json changes) {
  AuditEntry e;
  e.actor_user_id = origin.user_id;
  e.actor_api_key_id = origin.api_key_id;
  e.ip = origin.ip;
  e.request_id = origin.request_id;
  e.action = std::move(action);
  e.object_type = std::move(object_type);
  e.object_id = std::move(object_id);
  e.site_id = site_id;
  e.changes = std::move(changes);
  return e;
}

nlohmann::json ToJson(const AuditEntry& e) {
  return {{"id", e.id},
          {"at", e.at},
          {"actor_user_id", OrNull(e.actor_user_id)},
          {"actor_api_key_id", OrNull(e.actor_api_key_id)},
          {"action", e.action},
          {"object_type", e.object_type},
          {"object_id", e.object_id},
          {"site_id", OrNull(e.site_id)},
          {"ip", e.ip},
          {"request_id", e.request_id},
          {"changes", e.changes}};
}

}  // namespace poste::audit
