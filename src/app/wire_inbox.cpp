// Wiring of the inbox (modules/inbox): services, job handlers and routes.
#include "app/parts.hpp"

namespace poste::app {

void App::Parts::SetUpInbox() {}

}  // namespace poste::app
