// Wiring of the media library (modules/media): services, job handlers and routes.
#include "app/parts.hpp"

namespace poste::app {

void App::Parts::SetUpMedia() {}

}  // namespace poste::app
