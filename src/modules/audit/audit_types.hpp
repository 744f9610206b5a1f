#pragma once
// The audit module's structs and their JSON mapping: who did what, to which object, on which site, from where,
// and what changed (secrets redacted before the row is written).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace poste::audit {

// Where a change comes from: the caller and its request. Services take it and copy it into the audit row.
struct Origin {
  std::optional<std::int64_t> user_id;
  std::optional<std::int64_t> api_key_id;
  std::string ip;
  std::string request_id;
};

struct AuditEntry {
  std::int64_t id = 0;  // set by the store
  std::int64_t at = 0;  // epoch ms; Record fills it when 0
  std::optional<std::int64_t> actor_user_id;
  std::optional<std::int64_t> actor_api_key_id;
  std::string action;       // "user.create", "site.setting.put", ...
  std::string object_type;  // "user", "site", "site_setting"
  std::string object_id;
  std::optional<std::int64_t> site_id;
  std::string ip;
  std::string request_id;
  nlohmann::json changes = nlohmann::json::object();
};

// An entry from an origin (actor, ip, request id copied).
AuditEntry EntryFrom(const Origin& origin, std::string action, std::string object_type, std::string object_id,
                     std::optional<std::int64_t> site_id, nlohmann::json changes);

struct AuditFilter {
  std::optional<std::int64_t> actor_user_id;
  std::optional<std::int64_t> site_id;
  std::optional<std::string> action;       // exact, or a prefix when it ends with '*' ("user.*")
  std::optional<std::string> object_type;  // exact
  std::optional<std::string> object_id;    // exact
  std::optional<std::int64_t> from_ms;     // at >= from_ms
  std::optional<std::int64_t> to_ms;       // at < to_ms
  int limit = 50;                          // clamped to 1..kMaxListLimit
  std::optional<std::int64_t> cursor;      // the next_cursor of the previous page: entries with a smaller id
};
inline constexpr int kMaxListLimit = 200;

struct AuditPage {
  std::vector<AuditEntry> items;  // newest (highest id) first
  std::optional<std::int64_t> next_cursor;
};

// {id, at, actor_user_id|null, actor_api_key_id|null, action, object_type, object_id, site_id|null, ip,
//  request_id, changes}.
nlohmann::json ToJson(const AuditEntry& entry);

}  // namespace poste::audit
