#pragma once
// The sites module's domain logic: listing what a caller may see, creating, changing and deleting sites,
// and their technical settings, secret values sealed with the master key's SecretBox and never returned.
// Every change writes its audit entry in the same transaction. No HTTP here: sites_routes.cpp parses and
// serialises. Access to one site ({site} in a path) is checked by the site-access middleware before a
// handler calls in with the resolved id.
//
// Every member blocks (SQL): call it through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/crypto/secret_box.hpp"
#include "lib/web/principal.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/sites/sites_types.hpp"

namespace poste::db {
class Database;
}

namespace poste::sites {

class SitesService {
 public:
  // on_deleted runs after a site's deletion has committed (its editors lost access to it): the app passes
  // AuthGuard::InvalidateAll.
  SitesService(db::Database& db, const crypto::SecretBox& secrets, std::function<void()> on_deleted = {})
      : db_(db), secrets_(secrets), on_deleted_(std::move(on_deleted)) {}

  // Admins see every site; an editor (or an API key scoped to sites) only the sites it may access.
  store::SitePage List(const web::Principal& caller, store::ListOptions options);
  // 404 when there is no such site.
  Site Get(std::int64_t site_id);
  // Admins only (403). 422 with field errors; 409 on a taken slug ("slug") or domain ("domains").
  Site Create(const web::Principal& caller, const audit::Origin& origin, const NewSite& site);
  // The caller has access to the site (checked by the middleware). 422 / 409 as for Create; 404 when gone.
  Site Update(const audit::Origin& origin, std::int64_t site_id, const SitePatch& patch);
  // Admins only (403); 404 when there is no such site.
  void Delete(const web::Principal& caller, const audit::Origin& origin, std::int64_t site_id);

  // Ordered by key; secret values are the sealed text (ToJson(Setting) shows only whether they are set).
  std::vector<Setting> Settings(std::int64_t site_id);
  // Inserts or replaces a setting; a secret value is sealed bound to "site:<id>:setting:<key>". 422 on a bad
  // key or value; 404 when the site is gone. Returns the setting as stored (sealed when secret).
  Setting PutSetting(const audit::Origin& origin, std::int64_t site_id, const std::string& key,
                     const std::string& value, bool secret);
  // 404 when there is no such setting.
  void DeleteSetting(const audit::Origin& origin, std::int64_t site_id, const std::string& key);
  // For other modules (mail, AI): a setting's plain value, opened when secret; nullopt when not set.
  std::optional<std::string> SettingValue(std::int64_t site_id, const std::string& key);

  // Adds a listener called with a site's id after a change of its own fields (Update) or its deletion has
  // committed: the public read cache drops what it holds for the site. Add listeners while wiring only.
  void OnChanged(std::function<void(std::int64_t site_id)> listener) { on_changed_.push_back(std::move(listener)); }
  // Adds a listener called with the site before and after a change of its own fields (Update), once the change
  // has committed and before the OnChanged listeners: the modules that keep files of a site under its slug
  // (seo.json) move them when the slug changed. A listener's exception is logged; the change stands. Add
  // listeners while wiring only.
  void OnUpdated(std::function<void(const Site& before, const Site& after)> listener) {
    on_updated_.push_back(std::move(listener));
  }
  // Adds a listener called with the site as it was, after its deletion has committed: the modules that keep
  // files of a site (media, seo.json) remove them. A listener's exception is logged; the deletion stands.
  // Add listeners while wiring only.
  void OnDeleted(std::function<void(const Site& site)> listener) { on_deleted_sites_.push_back(std::move(listener)); }

  // The id of the site named by {site} (an id or a slug), for the site-access middleware.
  std::optional<std::int64_t> ResolveSite(std::string_view id_or_slug);

  // The associated data binding a secret setting to its site and key.
  static std::string SecretBinding(std::int64_t site_id, std::string_view key);

 private:
  db::Database& db_;
  const crypto::SecretBox& secrets_;
  std::function<void()> on_deleted_;
  std::vector<std::function<void(std::int64_t)>> on_changed_;
  std::vector<std::function<void(const Site&, const Site&)>> on_updated_;
  std::vector<std::function<void(const Site&)>> on_deleted_sites_;
};

}  // namespace poste::sites
