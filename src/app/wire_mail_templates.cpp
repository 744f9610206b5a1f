// Wiring of mail templates, signatures, suppressions and unsubscribe (modules/mail): services and routes.
#include "app/parts.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/mail/mail_signature_routes.hpp"
#include "modules/mail/mail_suppression_routes.hpp"
#include "modules/mail/mail_template_routes.hpp"
#include "modules/mail/unsubscribe_routes.hpp"

namespace poste::app {

void App::Parts::SetUpMailTemplates() {
  mail_templates = std::make_unique<mail::MailTemplatesService>(*database);
  mail_signatures = std::make_unique<mail::MailSignaturesService>(*database);
  mail_suppressions = std::make_unique<mail::MailSuppressionsService>(*database);

  mail::UnsubscribeOptions unsubscribe_options;
  unsubscribe_options.site = [s = sites.get()](std::int64_t site_id) -> std::optional<mail::UnsubscribeSite> {
    std::optional<sites::Site> site;
    try {
      site = s->Get(site_id);
    } catch (const AppError& error) {
      if (error.status() == 404) return std::nullopt;
      throw;
    }
    return mail::UnsubscribeSiteOf(*site, s->SettingValue(site_id, std::string(mail::kPublicUrlSetting)),
                                   s->SettingValue(site_id, std::string(mail::kUnsubscribeMailtoSetting)));
  };
  // Tokens are signed under a key of their own derived from the master key: it opens nothing else, and
  // rotating the master key invalidates the links already sent.
  unsubscribe = std::make_unique<mail::UnsubscribeService>(
      crypto::HmacSha256(crypto::AsStringView(master_key), "poste/unsubscribe/v1"), *mail_suppressions,
      std::move(unsubscribe_options));

  const auto site = web::Concat(signed_in, site_access);
  mail::RegisterTemplateRoutes(router, *mail_templates, site);
  mail::RegisterSignatureRoutes(router, *mail_signatures, site);
  mail::RegisterSuppressionRoutes(router, *mail_suppressions, site);
  // Mail providers post one-click unsubscribes from a few addresses on behalf of many people: the limit per
  // IP is well above the contact form's 5 a minute.
  const ratelimit::GroupRules unsubscribe_limits{"unsubscribe", ratelimit::PerMinute(120), {}, {}};
  mail::RegisterUnsubscribeRoutes(router, *unsubscribe, {ratelimit::LimitPerIp(limiter, unsubscribe_limits)});
}

}  // namespace poste::app
