// Wiring of collections and entries (modules/content): services, job handlers and routes.
#include "app/parts.hpp"
#include "jobs/job.hpp"
#include "modules/content/content_routes.hpp"

namespace poste::app {

void App::Parts::SetUpContent() {
  content = std::make_unique<content::ContentService>(*database, *queue);
  // Scheduled publication: the service checks the entry is still scheduled for that time, so a job that runs
  // twice, or after a cancel or a reschedule, changes nothing.
  workers->Register(std::string(content::kPublishJobKind),
                    [c = content.get()](const jobs::Job& job) { c->RunPublishJob(job); });
  content::RegisterRoutes(router, *content, {signed_in, site_access});
}

}  // namespace poste::app
