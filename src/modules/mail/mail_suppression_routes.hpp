#pragma once
// A site's suppression list: GET/POST /api/v1/sites/{site}/mail/suppressions,
// GET/DELETE /api/v1/sites/{site}/mail/suppressions/{entry} ({entry}: the entry's id or the address).
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class MailSuppressionsService;

inline constexpr std::size_t kSuppressionBodyLimit = 16 * 1024;

// site: authenticates (401 without an active user), then resolves {site} into ctx.site_id (404 when the caller
// may not access it).
void RegisterSuppressionRoutes(web::Router& router, MailSuppressionsService& service,
                               std::vector<web::Middleware> site);

}  // namespace poste::mail
