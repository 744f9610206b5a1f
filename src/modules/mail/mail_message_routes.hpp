#pragma once
// A site's single messages: POST /api/v1/sites/{site}/mail/messages (202 {id, state}; Idempotency-Key
// header or idempotency_key field), GET .../mail/messages (newest first, cursor), GET .../messages/{id},
// POST .../messages/{id}/cancel. The site's editors and the admins send and read them. A message may come
// from a template of the site ("template_id", "variables") and carry the sender's signature ("signature").
// The list is the site's delivery log of single messages: filters state and to (a recipient's address).
#include <vector>

#include "lib/web/router.hpp"

namespace poste::mail {

class MailMessagesService;
class MessageComposer;

struct MessageRouteGuards {
  std::vector<web::Middleware> user;         // authenticates; 401 without an active user
  std::vector<web::Middleware> site_access;  // after user: resolves {site} into ctx.site_id, else 404
};

void RegisterMessageRoutes(web::Router& router, MailMessagesService& service, MessageComposer& composer,
                           MessageRouteGuards guards);

}  // namespace poste::mail
