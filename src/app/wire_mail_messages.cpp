// Wiring of what single messages need beyond the send path (modules/mail, modules/inbox): messages composed
// from templates and signatures, inbox replies and forwards through the send path, and the sending stats.
#include "app/parts.hpp"
#include "modules/inbox/inbox_reply_routes.hpp"
#include "modules/mail/mail_message_routes.hpp"
#include "modules/mail/mail_stats_routes.hpp"

namespace poste::app {

void App::Parts::SetUpMailMessages() {
  message_composer = std::make_unique<mail::MessageComposer>(*mail_templates, *mail_signatures);
  mail::RegisterMessageRoutes(router, *mail_messages, *message_composer, {signed_in, site_access});
  inbox::RegisterReplyRoutes(router, {inbox.get(), mail_messages.get(), message_composer.get(), site_resolver},
                             signed_in);
  mail::StatsOptions stats_options;
  stats_options.site_timezone = [s = sites.get()](std::int64_t site_id) { return s->Get(site_id).timezone; };
  mail_stats = std::make_unique<mail::MailStatsService>(*database, std::move(stats_options));
  mail::RegisterStatsRoutes(router, *mail_stats, signed_in, site_access);
}

}  // namespace poste::app
