// Wiring of the media library (modules/media): the service, the media.derive job and the routes.
#include "app/parts.hpp"
#include "modules/media/media_routes.hpp"

namespace poste::app {

void App::Parts::SetUpMedia() {
  media = std::make_unique<media::MediaService>(
      *database, *queue, media::MediaOptions{config.data.dir + "/media", config.media.max_upload_bytes});
  workers->Register(std::string(media::kDeriveJobKind), [m = media.get()](const jobs::Job& job) { m->Derive(job); });
  // An item deleted with force leaves no entry pointing at it: its media fields are cleared in the deleting
  // transaction, then the site's public answers are dropped.
  media->clear_uses = [c = content.get()](soci::session& s, const audit::Origin& origin, std::int64_t site_id,
                                          std::int64_t media_id) {
    return c->ClearMediaReferences(s, origin, site_id, media_id);
  };
  media->uses_cleared = [c = content.get()](std::int64_t site_id) { c->SiteChanged(site_id); };
  // A deleted site's files (originals and sizes) go once the deletion has committed.
  sites->OnDeleted([m = media.get()](const sites::Site& site) { m->ForgetSite(site.id); });
  media::RegisterRoutes(router, *media, {signed_in, site_access});
}

}  // namespace poste::app
