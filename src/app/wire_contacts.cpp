// Wiring of contacts and webhooks (modules/contacts, modules/webhooks): services, job handlers and routes.
#include "app/parts.hpp"

namespace poste::app {

void App::Parts::SetUpContacts() {}

}  // namespace poste::app
