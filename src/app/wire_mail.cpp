// Wiring of mail accounts and transports (modules/mail): services, job handlers and routes.
#include "app/parts.hpp"

namespace poste::app {

void App::Parts::SetUpMail() {}

}  // namespace poste::app
