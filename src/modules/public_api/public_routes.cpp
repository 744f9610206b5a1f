#include "modules/public_api/public_routes.hpp"

#include <algorithm>
#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "lib/async/blocking.hpp"
#include "lib/cache/ready_cache.hpp"
#include "lib/cache/ready_response.hpp"
#include "lib/error.hpp"
#include "lib/validate/slug.hpp"
#include "lib/web/problem.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/content/content_query.hpp"
#include "modules/content/content_service.hpp"
#include "modules/public_api/site_directory.hpp"
#include "modules/seo/seo_service.hpp"
#include "modules/sites/site_cors.hpp"
#include "modules/sites/sites_types.hpp"

namespace poste::public_api {

namespace {

using web::Dump;

constexpr std::string_view kAllowedMethods = "GET, HEAD, OPTIONS";
// Request headers a preflight may ask for: what a reading client sends (the CORS-safelisted ones are always
// allowed and need no preflight, but clients list them anyway).
constexpr std::array<std::string_view, 8> kAllowedRequestHeaders = {
    "accept",        "accept-language",   "content-language", "content-type",
    "if-none-match", "if-modified-since", "cache-control",    "x-request-id"};

nlohmann::json PublicSettings(const sites::Site& site) {
  return {
      {"id", site.id},
      {"slug", site.slug},
      {"name", site.name},
      {"description", site.description},
      {"locale", site.locale},
      {"timezone", site.timezone},
      {"logo_media_id", site.logo_media_id ? nlohmann::json(*site.logo_media_id) : nlohmann::json()},
      {"contact", {{"email", site.contact.email}, {"phone", site.contact.phone}, {"address", site.contact.address}}},
      {"social", sites::ToJson(site.social)}};
}

// The {collection} of the path: a slug, else no such collection (checked before any query).
std::string CollectionParam(const web::RequestContext& ctx) {
  const std::string& slug = ctx.Param("collection");
  if (!validate::IsValidSlug(slug)) throw AppError::NotFound("No such collection.");
  return slug;
}

// Only published entries are public: a status filter may ask for them, nothing else.
content::EntryQuery PublicQuery(std::string_view raw_query) {
  auto query = content::ParseEntryQuery(raw_query);
  for (auto status : query.statuses) {
    if (status != content::EntryStatus::kPublished) {
      throw AppError::BadRequest("Only published entries are public.",
                                 {{"status", "invalid_value", "only \"published\" is allowed here"}});
    }
  }
  query.statuses = {content::EntryStatus::kPublished};
  return query;
}

struct Shared {
  explicit Shared(PublicRoutesDeps d) : deps(std::move(d)) {}
  PublicRoutesDeps deps;
};

// What a miss computes on the blocking pool.
struct Filled {
  std::int64_t site_id = 0;
  std::vector<std::string> origins;
  std::string body;
  std::optional<AppError> error;  // after the site was found (so that the error carries CORS headers)
};

using Build = std::function<std::string(const sites::Site&)>;

// The answer under the request's path and query: from the cache, or built on the blocking pool and kept.
web::Task<web::Response> Serve(Shared& shared, web::RequestContext& ctx, Build build) {
  auto& cache = shared.deps.cache;
  std::string key;
  key.reserve(ctx.request.path.size() + 1 + ctx.request.query.size());
  key.append(ctx.request.path).append(1, '?').append(ctx.request.query);
  if (auto hit = cache.Get(key)) co_return cache::ServeReady(ctx.request, hit);

  const auto ticket = cache.Ticket();  // before anything is read
  const std::string site_param = ctx.Param("site");
  Filled filled = co_await blocking([&]() -> Filled {
    Filled out;
    auto site = shared.deps.sites.Find(site_param);
    out.site_id = site->id;
    out.origins = sites::SiteOrigins(*site);
    try {
      out.body = build(*site);
    } catch (const AppError& e) {
      out.error = e;
    }
    return out;
  });
  if (filled.error) {
    auto r = web::ProblemFor(ctx, *filled.error);
    sites::AllowSiteOrigin(ctx.request, r, filled.origins);
    co_return r;
  }
  auto entry = cache::MakeReadyEntry(filled.site_id, "application/json", std::move(filled.body),
                                     std::move(filled.origins), cache.enabled());
  cache.Put(std::move(key), entry, ticket);
  co_return cache::ServeReady(ctx.request, entry);
}

// The CORS preflight of a public resource: allowed for the site's domains and the configured origins, for
// reading methods only.
web::Task<web::Response> Preflight(Shared& shared, web::RequestContext& ctx) {
  const std::string site_param = ctx.Param("site");
  auto origins = co_await blocking([&] { return sites::SiteOrigins(*shared.deps.sites.Find(site_param)); });
  static constexpr std::array<std::string_view, 2> kReadingMethods = {"GET", "HEAD"};
  co_return sites::Preflight(ctx.request, origins, shared.deps.extra_origins,
                             {kAllowedMethods, kReadingMethods, kAllowedRequestHeaders});
}

}  // namespace

void RegisterRoutes(web::Router& router, PublicRoutesDeps deps) {
  auto shared = std::make_shared<Shared>(std::move(deps));
  auto api = router.Group("/api/v1/public/sites/{site}", shared->deps.limits);
  auto& entries = shared->deps.content;
  auto& seo_service = shared->deps.seo;

  auto get = [&](const std::string& path, std::function<std::string(web::RequestContext&, const sites::Site&)> body) {
    api.Get(path, [shared, body](web::RequestContext& ctx) -> web::Task<web::Response> {
      co_return co_await Serve(*shared, ctx, [&](const sites::Site& site) { return body(ctx, site); });
    });
    api.Add("OPTIONS", path, [shared](web::RequestContext& ctx) -> web::Task<web::Response> {
      co_return co_await Preflight(*shared, ctx);
    });
  };

  get("/settings", [](web::RequestContext&, const sites::Site& site) { return Dump(PublicSettings(site)); });

  get("/seo/{page}", [&seo_service](web::RequestContext& ctx, const sites::Site& site) {
    return seo::DumpHtmlSafe(seo::ToJson(seo_service.ResolvePublic(site.id, ctx.Param("page"))));
  });

  get("/seo.json", [&seo_service](web::RequestContext&, const sites::Site& site) {
    return seo::DumpHtmlSafe(seo_service.SeoJson(site.id));
  });

  get("/collections/{collection}/entries", [&entries](web::RequestContext& ctx, const sites::Site& site) {
    const auto query = PublicQuery(ctx.request.query);
    return entries.ListEntriesJson(site.id, CollectionParam(ctx), query);
  });

  get("/collections/{collection}/entries/{entry}", [&entries](web::RequestContext& ctx, const sites::Site& site) {
    auto e = entries.GetEntry(site.id, CollectionParam(ctx), ctx.Param("entry"));
    if (e.status != content::EntryStatus::kPublished) throw AppError::NotFound("No such entry.");
    return Dump(content::ToJson(e));
  });
}

}  // namespace poste::public_api
