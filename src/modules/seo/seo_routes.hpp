#pragma once
// A site's SEO, for its editors and the admins:
//   GET        /api/v1/sites/{site}/seo                 every page: stored SEO, resolved result, warnings
//   GET/PUT/DELETE /api/v1/sites/{site}/seo/{page}      one page ({page}: home, about, contact,
//                                                        collection:<slug>, entry:<collection>%2F<id>)
//   GET/PUT    /api/v1/sites/{site}/seo-defaults        title template, description, image, Twitter handle
// Permission middleware comes from the app (the auth module's guard), applied in order, outermost first.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::seo {

class SeoService;

struct SeoRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
};

void RegisterRoutes(web::Router& router, SeoService& service, SeoRouteGuards guards);

}  // namespace poste::seo
