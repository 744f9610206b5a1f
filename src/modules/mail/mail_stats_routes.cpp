#include "modules/mail/mail_stats_routes.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/mail/mail_stats_service.hpp"

namespace poste::mail {

namespace {

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

StatsQuery QueryOf(const web::Request& r) {
  StatsQuery q;
  if (auto v = r.QueryParam("from")) q.from = std::string(*v);
  if (auto v = r.QueryParam("to")) q.to = std::string(*v);
  return q;
}

}  // namespace

void RegisterStatsRoutes(web::Router& router, MailStatsService& service, std::vector<web::Middleware> user,
                         std::vector<web::Middleware> site_access) {
  auto api = router.Group("/api/v1");
  const auto site = web::Concat(user, site_access);

  api.Get(
      "/sites/{site}/mail/stats",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = web::SiteId(ctx);
        auto query = QueryOf(ctx.request);
        query.campaign_id = audit::QueryInt(ctx.request, "campaign_id", 1, kMaxId);
        auto stats = co_await blocking([&] { return service.ForSite(site_id, query); });
        co_return web::Response::Json(200, web::Dump(ToJson(stats)));
      },
      {}, site);

  api.Get(
      "/sites/{site}/mail/campaigns/{id}/stats",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = web::SiteId(ctx);
        const auto id = web::PathId(ctx, "id", "campaign");
        const auto query = QueryOf(ctx.request);
        auto stats = co_await blocking([&] { return service.ForCampaign(site_id, id, query); });
        co_return web::Response::Json(200, web::Dump(ToJson(stats)));
      },
      {}, site);
}

}  // namespace poste::mail
