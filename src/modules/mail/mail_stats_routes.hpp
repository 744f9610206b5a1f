#pragma once
// A site's sending stats per local day: GET /api/v1/sites/{site}/mail/stats?from=&to=&campaign_id= and, for
// one campaign, GET /api/v1/sites/{site}/mail/campaigns/{id}/stats?from=&to=. The site's editors and the
// admins read them (like the messages and campaigns themselves).
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class MailStatsService;

void RegisterStatsRoutes(web::Router& router, MailStatsService& service, std::vector<web::Middleware> user,
                         std::vector<web::Middleware> site_access);

}  // namespace poste::mail
