#pragma once
// The media library's routes:
//   POST   /api/v1/sites/{site}/media           upload: a raw body (?filename=, or Content-Disposition) or
//                                               multipart/form-data (file, alt, caption), streamed to disk
//   GET    /api/v1/sites/{site}/media           list (type, q, from, to, limit, cursor)
//   GET    /api/v1/sites/{site}/media/{id}      one item, with its sizes and uses
//   PATCH  /api/v1/sites/{site}/media/{id}      alt text and caption
//   DELETE /api/v1/sites/{site}/media/{id}      409 while used, unless ?force=true
//   GET    /media/{site_id}/{file}              the stored files, public (no authentication: the media of a
//                                               site are published with it), immutable, with ETag and Range
#include <vector>

#include "lib/web/router.hpp"

namespace poste::media {

class MediaService;

struct MediaRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
};

void RegisterRoutes(web::Router& router, MediaService& service, MediaRouteGuards guards);

}  // namespace poste::media
