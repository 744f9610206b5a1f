// Wiring of bounces (modules/mail): the bounce mailbox's reading of synced DSNs, the providers' event
// endpoints (SendGrid, SES through SNS), and their routes.
#include "app/parts.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/mail/mail_bounce_routes.hpp"
#include "modules/mail/provider_events_routes.hpp"

namespace poste::app {

void App::Parts::SetUpMailBounces() {
  mail::BounceOptions options;
  options.inbox_account_site = [i = inbox.get()](const web::Principal& caller,
                                                 std::int64_t id) -> std::optional<std::int64_t> {
    try {
      return i->GetAccount(caller, id).site_id;
    } catch (const AppError& error) {
      if (error.status() == 404) return std::nullopt;
      throw;
    }
  };
  mail_bounces = std::make_unique<mail::MailBouncesService>(*database, *queue, *mail_suppressions, std::move(options));

  // SNS names the certificate and confirmation URLs itself: only its own hosts (and the configured
  // stand-ins) pass SnsUrlAllowed, and the client refuses private addresses unless those are listed.
  std::vector<std::string> stand_in_hosts;
  for (const auto& entry : config.mail.sns_certificate_hosts) {
    std::string host = entry;
    if (!host.empty() && host.front() == '[') {
      host = host.substr(1, host.find(']') - 1);
    } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
      host = host.substr(0, colon);
    }
    stand_in_hosts.push_back(host);
  }
  net::HttpClientOptions client_options;
  client_options.policy = net::TargetPolicy::WithAllowList(stand_in_hosts);
  sns_client = std::make_unique<net::HttpClient>(std::move(client_options));

  mail::ProviderEventsOptions events_options;
  events_options.account_type = [a = mail_accounts.get()](std::int64_t site_id,
                                                          std::int64_t id) -> std::optional<std::string> {
    try {
      return a->Get(site_id, id).type;
    } catch (const AppError& error) {
      if (error.status() == 404) return std::nullopt;
      throw;
    }
  };
  events_options.sns_extra_hosts = config.mail.sns_certificate_hosts;
  provider_events = std::make_unique<mail::ProviderEventsService>(*database, *mail_bounces, *mail_suppressions,
                                                                  *sns_client, std::move(events_options));

  const auto site = web::Concat(signed_in, site_access);
  mail::RegisterBounceRoutes(router, *mail_bounces, *provider_events, {site, web::Concat(site, admin_only)});
  // Providers post from a few addresses for every site they send for: well above the contact form's limit.
  const ratelimit::GroupRules event_limits{"mail_events", ratelimit::PerMinute(600), {}, {}};
  mail::RegisterProviderEventRoutes(router, *provider_events, {ratelimit::LimitPerIp(limiter, event_limits)});
}

}  // namespace poste::app
