// Wiring of the media library (modules/media): the service, the media.derive job and the routes.
#include "app/parts.hpp"
#include "modules/media/media_routes.hpp"

namespace poste::app {

void App::Parts::SetUpMedia() {
  media = std::make_unique<media::MediaService>(
      *database, *queue, media::MediaOptions{config.data.dir + "/media", config.media.max_upload_bytes});
  workers->Register(std::string(media::kDeriveJobKind), [m = media.get()](const jobs::Job& job) { m->Derive(job); });
  media::RegisterRoutes(router, *media, {signed_in, site_access});
}

}  // namespace poste::app
