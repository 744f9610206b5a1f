#pragma once
// The anonymous, headless read API of each site (no authentication):
//   GET /api/v1/public/sites/{site}/settings                                  public fields of the site
//   GET /api/v1/public/sites/{site}/seo/{page}                                a page's resolved SEO
//   GET /api/v1/public/sites/{site}/seo.json                                  every page's resolved SEO
//   GET /api/v1/public/sites/{site}/collections/{collection}/entries          published entries (the admin
//                                                                              list's filters, sort and cursor)
//   GET /api/v1/public/sites/{site}/collections/{collection}/entries/{entry}  one published entry, by id or slug
// and OPTIONS on each (CORS preflight). {site} is an id or a slug.
//
// Answers come from the ready-bytes cache (lib/cache): a hit costs no SQL and no thread hop; ETag and
// If-None-Match give 304s; a gzip variant is kept for clients that accept it. The app invalidates a site's
// answers after every committed write to it (site fields, content, SEO). Cross-origin reads are allowed from the
// site's own domains (https:// and http://) and from the configured extra origins (server.cors_origins, which
// the pipeline handles). Unknown sites, collections and entries, and entries that are not published, are 404.
#include <string>
#include <vector>

#include "lib/web/router.hpp"

namespace poste::cache {
class ReadyCache;
}
namespace poste::content {
class ContentService;
}
namespace poste::seo {
class SeoService;
}

namespace poste::public_api {

class SiteDirectory;

struct PublicRoutesDeps {
  SiteDirectory& sites;
  content::ContentService& content;
  seo::SeoService& seo;
  cache::ReadyCache& cache;
  std::vector<web::Middleware> limits;     // the group's rate limit (per IP), outermost first
  std::vector<std::string> extra_origins;  // server.cors_origins: answered in preflights too
};

void RegisterRoutes(web::Router& router, PublicRoutesDeps deps);

}  // namespace poste::public_api
