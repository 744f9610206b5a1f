#pragma once
// A site's campaigns, for its editors and the admins:
//   GET/POST /api/v1/sites/{site}/mail/campaigns, GET/PATCH/DELETE .../campaigns/{id}
//   POST .../campaigns/{id}/recipients (text/csv: a CSV upload; JSON {"source": "contacts"}: the site's
//        contacts), GET .../recipients (cursor, state filter), DELETE .../recipients (drafts)
//   GET .../campaigns/{id}/preview[?recipient=ID], POST .../campaigns/{id}/test {"to"[, "recipient_id"]}
//   POST .../campaigns/{id}/start {"send_at"?}, .../pause, .../resume, .../cancel
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class CampaignService;

inline constexpr std::size_t kCampaignCsvLimit = 20u << 20;

struct CampaignRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
};

void RegisterCampaignRoutes(web::Router& router, CampaignService& service, CampaignRouteGuards guards);

}  // namespace poste::mail
