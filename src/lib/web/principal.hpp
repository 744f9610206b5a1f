#pragma once
// Who is calling, as established by the authentication middleware: a user, possibly through a personal
// API key scoped to some sites. Handlers and permission middleware read it from the RequestContext.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace poste::web {

struct Principal {
  std::int64_t user_id = 0;
  bool admin = false;                  // admins reach every site
  std::vector<std::int64_t> site_ids;  // the sites an editor is assigned to
  std::optional<std::int64_t> api_key_id;
  std::vector<std::int64_t> key_sites;  // an API key's own restriction; empty: no further restriction
  bool via_cookie = false;              // browser session: unsafe methods need the CSRF token

  bool CanAccessSite(std::int64_t site_id) const {
    if (!key_sites.empty() && std::find(key_sites.begin(), key_sites.end(), site_id) == key_sites.end()) {
      return false;
    }
    return admin || std::find(site_ids.begin(), site_ids.end(), site_id) != site_ids.end();
  }
};

}  // namespace poste::web
