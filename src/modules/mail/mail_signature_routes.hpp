#pragma once
// The caller's own signature for a site: GET/PUT/DELETE /api/v1/sites/{site}/mail/signature.
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class MailSignaturesService;

// Two versions at their largest (JSON escapes may double them), and room for the rest.
inline constexpr std::size_t kSignatureBodyLimit = 4 * 64 * 1024 + 4096;

// site: authenticates (401 without an active user), then resolves {site} into ctx.site_id (404 when the caller
// may not access it).
void RegisterSignatureRoutes(web::Router& router, MailSignaturesService& service, std::vector<web::Middleware> site);

}  // namespace poste::mail
