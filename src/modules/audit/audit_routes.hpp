#pragma once
// GET /api/v1/audit (admin only), with filters. The permission middleware is given by the app (the auth
// module's guard), so this module does not depend on how callers authenticate.
#include <vector>

#include "lib/web/router.hpp"
#include "modules/audit/audit_types.hpp"

namespace poste::audit {

class AuditService;

struct AuditRouteGuards {
  std::vector<web::Middleware> user;   // authenticates; 401 without an active user
  std::vector<web::Middleware> admin;  // after user: 403 unless an admin
};

void RegisterRoutes(web::Router& router, AuditService& service, AuditRouteGuards guards);

// The audit origin of a request: the principal's user and API key, the client IP and the request id.
Origin OriginOf(const web::RequestContext& ctx);

// Query helpers shared by the identity routes: an integer query parameter (nullopt when absent; 400 with the
// parameter as field when it is not an integer within [min, max]).
std::optional<std::int64_t> QueryInt(const web::Request& request, std::string_view name, std::int64_t min,
                                     std::int64_t max);

}  // namespace poste::audit
