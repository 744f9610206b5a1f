// Wiring of DKIM keys per site (modules/mail/mail_dkim_*): the service and its routes. The send paths sign
// with it: the single message path through MessagesOptions::dkim_signature (wire_mail.cpp), campaigns with
// MailDkimService::SignersFor once per batch.
#include "app/parts.hpp"
#include "modules/mail/mail_dkim_routes.hpp"

namespace poste::app {

void App::Parts::SetUpMailDkim() {
  mail_dkim = std::make_unique<mail::MailDkimService>(*database, *secrets);
  mail::RegisterDkimRoutes(router, *mail_dkim, {signed_in, site_access, admin_only});
}

}  // namespace poste::app
