// Wiring of contacts and webhooks (modules/contacts, modules/webhooks): services, job handlers and routes.
#include "app/parts.hpp"
#include "lib/crypto/encoding.hpp"
#include "modules/contacts/contacts_routes.hpp"
#include "modules/webhooks/webhook_events.hpp"
#include "modules/webhooks/webhooks_routes.hpp"

namespace poste::app {

void App::Parts::SetUpContacts() {
  // Webhooks first: a received contact emits a webhook event.
  webhook_client = std::make_unique<net::HttpClient>(
      net::HttpClientOptions{std::string("Poste-Webhooks/") + POSTE_VERSION,
                             net::TargetPolicy::WithAllowList(config.webhooks.allow_private_targets)});
  webhooks = std::make_unique<webhooks::WebhooksService>(*database, *queue, *secrets, *webhook_client);
  workers->Register(std::string(webhooks::kEventJobKind),
                    [w = webhooks.get()](const jobs::Job& job) { w->HandleEvent(job); });
  workers->Register(std::string(webhooks::kDeliverJobKind),
                    [w = webhooks.get()](const jobs::Job& job) { w->HandleDeliver(job); });
  webhooks::RegisterRoutes(router, *webhooks, {signed_in, site_access});

  contacts::ContactsOptions contact_options;
  contact_options.contact_address = [s = sites.get()](std::int64_t site_id) { return s->Get(site_id).contact.email; };
  // Client IPs are stored only as an HMAC under a key derived from the master key: equal IPs can be
  // matched (spam waves), the addresses themselves cannot be read back.
  contacts = std::make_unique<contacts::ContactsService>(
      *database, *queue, crypto::HmacSha256(crypto::AsStringView(master_key), "poste/contact-ip/v1"),
      std::move(contact_options));
  workers->Register(std::string(contacts::kNotifyJobKind),
                    [c = contacts.get()](const jobs::Job& job) { c->HandleNotify(job); });
  const ratelimit::GroupRules form_limits{"contact", ratelimit::PerMinute(5), {}, {}};
  // Preflights count against the public read API's limit, not the form's: a browser sends one before each
  // JSON post.
  const ratelimit::GroupRules public_limits{
      "public", ratelimit::PerMinute(static_cast<double>(config.rate_limit.public_per_ip)), {}, {}};
  auto find_site = [s = sites.get()](std::string_view id_or_slug) -> std::optional<sites::Site> {
    auto id = s->ResolveSite(id_or_slug);
    if (!id) return std::nullopt;
    return s->Get(*id);
  };
  contacts::RegisterRoutes(router, *contacts,
                           {signed_in,
                            site_access,
                            {ratelimit::LimitPerIp(limiter, form_limits)},
                            {ratelimit::LimitPerIp(limiter, public_limits)},
                            find_site,
                            config.server.cors_origins});
}

}  // namespace poste::app
