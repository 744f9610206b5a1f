#include "modules/public_api/site_directory.hpp"

#include "db/database.hpp"
#include "lib/error.hpp"
#include "lib/validate/slug.hpp"
#include "modules/sites/sites_store.hpp"

namespace poste::public_api {

std::shared_ptr<const sites::Site> SiteDirectory::Find(const std::string& id_or_slug) {
  {
    std::lock_guard lock(mu_);
    if (auto it = by_name_.find(id_or_slug); it != by_name_.end()) return it->second;
  }
  const bool id = sites::IsAllDigits(id_or_slug) && id_or_slug.size() <= 18;
  if (!id && !validate::IsValidSlug(id_or_slug)) throw AppError::NotFound("No such site.");
  const auto ticket = generation_.load(std::memory_order_acquire);
  auto site = db_.ReadValue([&](soci::session& s) { return sites::store::GetByIdOrSlug(s, id_or_slug); });
  if (!site) throw AppError::NotFound("No such site.");
  auto found = std::make_shared<const sites::Site>(std::move(*site));
  std::lock_guard lock(mu_);
  // A change committed while this lookup read: what it read may be stale, so it is used once and not kept.
  // Kept only under the site's own id or slug: "007" or a slug's other spellings must not grow the map.
  const bool canonical = id_or_slug == found->slug || id_or_slug == std::to_string(found->id);
  if (canonical && generation_.load(std::memory_order_acquire) == ticket) by_name_[id_or_slug] = found;
  return found;
}

void SiteDirectory::Forget() {
  std::lock_guard lock(mu_);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  by_name_.clear();
}

}  // namespace poste::public_api
