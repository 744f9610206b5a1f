// Wiring of the OAuth2 connection of Gmail / Outlook accounts (modules/mail/mail_oauth_*): the service with
// the redirect URL and token endpoint policy from the configuration, and its routes.
#include "app/parts.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/mail/mail_oauth_routes.hpp"

namespace poste::app {

void App::Parts::SetUpMailOAuth() {
  mail::OAuthOptions options;
  options.redirect_url = config.mail.oauth_redirect_url;
  options.token_policy = net::TargetPolicy::WithAllowList(config.mail.oauth_allow_targets);
  options.user_agent = std::string("Poste-Mail/") + POSTE_VERSION;
  // The callback acts for whoever started the flow, up to 10 minutes later: they must still be an active
  // admin (managing mail accounts is reserved to admins, who reach every site).
  options.may_manage = [g = guard.get()](std::int64_t user_id, std::int64_t /*site_id*/) {
    const auto facts = g->Facts(user_id);
    return facts && facts->active && facts->admin;
  };
  mail_oauth = std::make_unique<mail::MailOAuthService>(*database, *mail_accounts, std::move(options));
  // The callback is reached by browsers, without API credentials: limited per client address.
  const ratelimit::GroupRules callback_limits{"mail_oauth_callback", ratelimit::PerMinute(30), {}, {}};
  mail::RegisterOAuthRoutes(router, *mail_oauth,
                            {web::Concat(web::Concat(signed_in, site_access), admin_only),
                             {ratelimit::LimitPerIp(limiter, callback_limits)}});
}

}  // namespace poste::app
