#pragma once
// POST /api/v1/public/sites/{site}/contact (anonymous: JSON or an HTML form; callable cross-origin from the
// site's domains and the configured extra origins, with its OPTIONS preflight), and the site's inbox:
// GET /api/v1/sites/{site}/contacts, GET /api/v1/sites/{site}/contacts.csv,
// GET/PATCH/DELETE /api/v1/sites/{site}/contacts/{id}.
// Permission middleware comes from the app; each list is applied in order, outermost first.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/web/router.hpp"
#include "modules/sites/sites_types.hpp"

namespace poste::contacts {

class ContactsService;

inline constexpr std::size_t kContactBodyLimit = 64 * 1024;

struct ContactsRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
  std::vector<web::Middleware> public_form;  // the anonymous form's limits (per-IP rate limit)
  std::vector<web::Middleware> preflight;    // the form's CORS preflight (the public API's per-IP limit)
  // Blocking: the site named by {site} (an id or a slug), nullopt when there is none.
  std::function<std::optional<sites::Site>(std::string_view)> find_site;
  // server.cors_origins: allowed cross-origin besides the site's own domains.
  std::vector<std::string> extra_origins;
};

void RegisterRoutes(web::Router& router, ContactsService& service, ContactsRouteGuards guards);

}  // namespace poste::contacts
