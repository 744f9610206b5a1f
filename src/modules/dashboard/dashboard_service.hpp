#pragma once
// A site's dashboard in one read: its collections with their entries counted by status, unread contacts, the
// media library's size, and the latest audit entries of the site. Each table is read by its own module's
// store (content, media, contacts, audit): the dashboard has no SQL of its own. Blocks (SQL): call it through
// co_await blocking(...).
#include <nlohmann/json_fwd.hpp>

#include <cstdint>

namespace poste::db {
class Database;
}

namespace poste::dashboard {

inline constexpr int kRecentActivity = 10;

// {collections: [{slug, name, entries: {draft, published, archived, total}}], entries: {draft, published,
//  archived, total}, contacts: {unread}, media: {count, bytes}, recent_activity: [audit entry, ...]}.
nlohmann::json Summary(db::Database& db, std::int64_t site_id);

}  // namespace poste::dashboard
