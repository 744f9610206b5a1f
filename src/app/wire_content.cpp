// Wiring of collections and entries (modules/content): services, job handlers and routes.
#include "app/parts.hpp"

namespace poste::app {

void App::Parts::SetUpContent() {}

}  // namespace poste::app
