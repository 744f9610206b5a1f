#pragma once
// A site's mail templates: GET/POST /api/v1/sites/{site}/mail/templates,
// GET/PATCH/DELETE /api/v1/sites/{site}/mail/templates/{id}, POST /api/v1/sites/{site}/mail/templates/{id}/preview.
// Permission middleware comes from the app; each list is applied in order, outermost first.
#include <vector>

#include "lib/mail/template.hpp"
#include "lib/web/router.hpp"

namespace poste::mail {

class MailTemplatesService;

// Three template parts at their largest, and room for the rest of the JSON.
inline constexpr std::size_t kTemplateBodyLimit = 3 * kMaxTemplateBytes + 64 * 1024;

// site: authenticates (401 without an active user), then resolves {site} into ctx.site_id (404 when the caller
// may not access it).
void RegisterTemplateRoutes(web::Router& router, MailTemplatesService& service, std::vector<web::Middleware> site);

}  // namespace poste::mail
