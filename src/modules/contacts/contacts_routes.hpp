#pragma once
// POST /api/v1/public/sites/{site}/contact (anonymous: JSON or an HTML form), and the site's inbox:
// GET /api/v1/sites/{site}/contacts, GET /api/v1/sites/{site}/contacts.csv,
// GET/PATCH/DELETE /api/v1/sites/{site}/contacts/{id}.
// Permission middleware comes from the app; each list is applied in order, outermost first.
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "lib/web/router.hpp"

namespace poste::contacts {

class ContactsService;

inline constexpr std::size_t kContactBodyLimit = 64 * 1024;

struct ContactsRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
  std::vector<web::Middleware> public_form;  // the anonymous form's limits (per-IP rate limit)
  // Blocking: the id of the site named by {site} (an id or a slug), nullopt when there is none.
  std::function<std::optional<std::int64_t>(std::string_view)> resolve_site;
};

void RegisterRoutes(web::Router& router, ContactsService& service, ContactsRouteGuards guards);

}  // namespace poste::contacts
