#pragma once
// The sites the public read API has looked up, by the {site} of the path (an id or a slug), so that an answer
// built without the ready-bytes cache (a miss, or the cache off) does not pay two queries to find its site.
// Bounded by the number of sites: only found sites are kept. The app calls Forget after every committed change
// to a site; a lookup that raced with a change is not kept (the same ticket rule as lib/cache/ready_cache.hpp).
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "modules/sites/sites_types.hpp"

namespace poste::db {
class Database;
}

namespace poste::public_api {

class SiteDirectory {
 public:
  explicit SiteDirectory(db::Database& db) : db_(db) {}

  // The site named by `id_or_slug`; AppError 404 when there is none (a malformed name costs no query).
  // Blocking: call it on the blocking pool.
  std::shared_ptr<const sites::Site> Find(const std::string& id_or_slug);
  // Drops what is known of every site: site changes are rare, and an id and a slug name the same site.
  void Forget();

 private:
  db::Database& db_;
  std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<const sites::Site>> by_name_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace poste::public_api
