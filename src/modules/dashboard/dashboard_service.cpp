#include "modules/dashboard/dashboard_service.hpp"

#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "modules/audit/audit_store.hpp"
#include "modules/contacts/contacts_store.hpp"
#include "modules/content/content_store.hpp"
#include "modules/media/media_store.hpp"

namespace poste::dashboard {

nlohmann::json Summary(db::Database& db, std::int64_t site_id) {
  std::vector<content::store::CollectionCounts> collections;
  media::store::Totals library;
  std::int64_t unread = 0;
  audit::AuditPage activity;
  db.Read([&](soci::session& s) {
    collections = content::store::CountEntriesByStatus(s, site_id);
    library = media::store::CountTotals(s, site_id);
    unread = contacts::store::CountUnread(s, site_id);
    audit::AuditFilter filter;
    filter.site_id = site_id;
    filter.limit = kRecentActivity;
    activity = audit::store::List(s, filter);
  });
  nlohmann::json items = nlohmann::json::array();
  std::int64_t draft = 0, published = 0, archived = 0;
  for (const auto& c : collections) {
    draft += c.draft, published += c.published, archived += c.archived;
    items.push_back({{"slug", c.slug},
                     {"name", c.name},
                     {"entries",
                      {{"draft", c.draft},
                       {"published", c.published},
                       {"archived", c.archived},
                       {"total", c.draft + c.published + c.archived}}}});
  }
  nlohmann::json recent = nlohmann::json::array();
  for (const auto& entry : activity.items) recent.push_back(audit::ToJson(entry));
  return {
      {"collections", std::move(items)},
      {"entries",
       {{"draft", draft}, {"published", published}, {"archived", archived}, {"total", draft + published + archived}}},
      {"contacts", {{"unread", unread}}},
      {"media", {{"count", library.count}, {"bytes", library.bytes}}},
      {"recent_activity", std::move(recent)}};
}

}  // namespace poste::dashboard
