// Wiring of mail templates, signatures, suppressions and unsubscribe (modules/mail): services, job handlers and routes.
#include "app/parts.hpp"

namespace poste::app {

void App::Parts::SetUpMailTemplates() {}

}  // namespace poste::app
