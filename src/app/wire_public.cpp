// Wiring of SEO and the public read API (modules/seo, modules/public_api) and the dashboard: services, the
// seo.json job, the ready-bytes cache and what invalidates it, routes.
#include <spdlog/spdlog.h>

#include "app/parts.hpp"
#include "jobs/job.hpp"
#include "modules/dashboard/dashboard_routes.hpp"
#include "modules/public_api/public_routes.hpp"
#include "modules/public_api/site_directory.hpp"
#include "modules/seo/seo_routes.hpp"

namespace poste::app {

void App::Parts::SetUpPublic() {
  public_cache = std::make_unique<cache::ReadyCache>(config.server.public_cache_bytes);
  public_sites = std::make_unique<public_api::SiteDirectory>(*database);
  seo = std::make_unique<seo::SeoService>(*database, *queue, *content, config.data.dir);
  workers->Register(std::string(seo::kRegenerateJobKind),
                    [s = seo.get()](const jobs::Job& job) { s->RunRegenerateJob(job); });

  // Every committed write to a site drops its public answers (the hooks run after the commit) and, for the
  // site's fields and content, regenerates its seo.json (SEO changes enqueue that in their own transaction).
  // A failure to enqueue is logged: the change itself has committed and must not be reported as failed.
  auto changed = [c = public_cache.get(), s = seo.get()](std::int64_t site_id) {
    c->InvalidateSite(site_id);
    try {
      s->ScheduleRegenerate(site_id);
    } catch (const std::exception& e) {
      spdlog::error("site {}: could not schedule the seo.json regeneration: {}", site_id, e.what());
    }
  };
  seo->on_changed = [c = public_cache.get()](std::int64_t site_id) { c->InvalidateSite(site_id); };
  sites->OnChanged(changed);
  sites->OnChanged([d = public_sites.get()](std::int64_t) { d->Forget(); });
  content->on_site_changed = [previous = std::move(content->on_site_changed), changed](std::int64_t site_id) {
    if (previous) previous(site_id);
    changed(site_id);
  };

  seo::RegisterRoutes(router, *seo, {signed_in, site_access});
  const ratelimit::GroupRules public_limits{
      "public", ratelimit::PerMinute(static_cast<double>(config.rate_limit.public_per_ip)), {}, {}};
  public_api::RegisterRoutes(router, {*public_sites,
                                      *content,
                                      *seo,
                                      *public_cache,
                                      {ratelimit::LimitPerIp(limiter, public_limits)},
                                      config.server.cors_origins});
  dashboard::RegisterRoutes(router, *database, {signed_in, site_access});
}

}  // namespace poste::app
