#pragma once
// /api/v1/inbox: IMAP accounts (GET/POST accounts, GET/PATCH/DELETE accounts/{id}, POST accounts/{id}/sync),
// messages (GET messages, GET messages/{id}, POST messages/{id}/read, POST messages/{id}/archive,
// GET messages/{id}/attachments/{n}, GET messages/{id}/reply) and threads (GET threads/{id}).
// Every route needs a signed-in caller; what the caller may see is decided by the service (404 otherwise).
#include <vector>

#include "lib/web/router.hpp"

namespace poste::inbox {

class InboxService;

void RegisterRoutes(web::Router& router, InboxService& service, std::vector<web::Middleware> signed_in);

}  // namespace poste::inbox
