// Wiring of SEO and the public read API (modules/seo, modules/public_api): services, job handlers and routes.
#include "app/parts.hpp"

namespace poste::app {

void App::Parts::SetUpPublic() {}

}  // namespace poste::app
