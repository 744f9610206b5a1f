#pragma once
// The collections and entries of a site, for its editors and the admins:
//   GET/POST   /api/v1/sites/{site}/collections
//   GET/PATCH/DELETE /api/v1/sites/{site}/collections/{collection}
//   GET/POST   /api/v1/sites/{site}/collections/{collection}/entries
//   POST       /api/v1/sites/{site}/collections/{collection}/entries/reorder
//   GET/PATCH/DELETE /api/v1/sites/{site}/collections/{collection}/entries/{id}
//   GET        /api/v1/sites/{site}/collections/{collection}/entries/{id}/revisions
//   POST       /api/v1/sites/{site}/collections/{collection}/entries/{id}/revisions/{rev}/restore
// Permission middleware comes from the app (the auth module's guard), applied in order, outermost first.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::content {

class ContentService;

struct ContentRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
};

void RegisterRoutes(web::Router& router, ContentService& service, ContentRouteGuards guards);

}  // namespace poste::content
