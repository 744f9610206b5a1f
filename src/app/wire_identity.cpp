// Wiring of identity and tenancy (issue 3): master key and secrets, tokens, sign-in, users, sites, audit,
// and the middleware chains later capabilities reuse.
#include "app/master_key.hpp"
#include "app/parts.hpp"
#include "lib/crypto/encoding.hpp"

namespace poste::app {

void App::Parts::SetUpIdentity() {
  master_key = LoadMasterKey(config, *database);
  secrets = std::make_unique<crypto::SecretBox>(crypto::SecretBox::FromKeys(master_key));
  // The JWT key is derived from the master key, never stored: rotating the master key rotates it too.
  tokens = std::make_unique<auth::TokenService>(
      *database, crypto::HmacSha256(crypto::AsStringView(master_key), "poste/jwt-hs256/v1"));
  login = std::make_unique<auth::LoginService>(*database, *tokens, *secrets, login_failures, login_failures);
  credentials = std::make_unique<auth::CredentialsService>(*database, *tokens, *secrets);
  guard = std::make_unique<auth::AuthGuard>(*database, *tokens);
  users = std::make_unique<users::UsersService>(*database, crypto::PasswordParams{},
                                                [g = guard.get()](std::int64_t id) { g->Invalidate(id); });
  sites = std::make_unique<sites::SitesService>(*database, *secrets, [g = guard.get()] { g->InvalidateAll(); });
  // A deleted site's folder of published files (data/sites/<slug>/: seo.json) goes once the deletion has
  // committed; the media library removes its own folder (wire_media.cpp).
  sites->OnDeleted([dir = config.data.dir](const sites::Site& site) { seo::ForgetSiteFiles(dir, site.slug); });
  // A new slug takes the folder along (before the change listeners schedule its seo.json under the new slug).
  sites->OnUpdated([dir = config.data.dir](const sites::Site& before, const sites::Site& after) {
    if (before.slug != after.slug) seo::MoveSiteFiles(dir, before.slug, after.slug);
  });
  audit = std::make_unique<audit::AuditService>(*database);
  site_resolver = [s = sites.get()](std::string_view id_or_slug) { return s->ResolveSite(id_or_slug); };
  auth::AuthRoutesOptions auth_options;
  auth_options.secure_cookies = config.server.secure_cookies;
  // The signed-in API's limits: per IP before the credentials are checked, per user or key after.
  const ratelimit::GroupRules api_limits{"api", ratelimit::PerMinute(config.rate_limit.api_per_ip),
                                         ratelimit::PerMinute(config.rate_limit.api_per_user),
                                         ratelimit::PerMinute(config.rate_limit.api_per_api_key)};
  const std::vector<web::Middleware> authenticate = {ratelimit::LimitPerIp(limiter, api_limits), guard->Authenticate(),
                                                     ratelimit::LimitPerCaller(limiter, api_limits)};
  auth::RegisterRoutes(router, {*database, *tokens, *login, *credentials, *guard, limiter, site_resolver, auth_options,
                                auth::SteadyNowMs, authenticate});
  signed_in = authenticate;
  signed_in.push_back(auth::RequireUser());
  admin_only = {auth::RequireAdmin()};
  site_access = {auth::RequireSiteAccess(site_resolver)};
  users::RegisterRoutes(router, *users, {signed_in, admin_only, {auth::RequireSelfOrAdmin("id")}});
  sites::RegisterRoutes(router, *sites, {signed_in, admin_only, site_access});
  audit::RegisterRoutes(router, *audit, {signed_in, admin_only});
}

}  // namespace poste::app
