// Wiring of campaigns (modules/mail/campaign_*): the service with its hooks into the accounts, limits,
// suppressions, unsubscribe links, templates, single messages and contacts; the batch and start jobs; routes.
#include <soci/soci.h>

#include "app/parts.hpp"
#include "modules/mail/campaign_routes.hpp"
#include "modules/mail/mail_dkim_service.hpp"
#include "modules/mail/mail_limits_store.hpp"

namespace poste::app {

void App::Parts::SetUpMailCampaigns() {
  mail::CampaignHooks hooks;
  hooks.open_account = [this](std::int64_t site_id, std::optional<std::int64_t> account_id) {
    auto account = mail_accounts->Resolve(site_id, account_id);
    mail::CampaignSender sender;
    sender.transport = mail_accounts->TransportFor(account);
    sender.from = account.from;
    if (account.id != 0 && account.limits.Any()) {
      sender.reserve = [db = database.get(), site_id, id = account.id, limits = account.limits] {
        return db->WriteValue([&](soci::session& s) {
          const auto now =
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count();
          const auto r = mail::limits_store::Reserve(s, site_id, id, limits, now);
          return r.granted ? std::int64_t{0} : std::max<std::int64_t>(1, r.wait_ms);
        });
      };
    }
    return sender;
  };
  hooks.suppressed_among = [this](std::int64_t site_id, const std::vector<std::string>& emails) {
    return mail_suppressions->SuppressedAmong(site_id, emails);
  };
  hooks.unsubscribe_linker = [this](std::int64_t site_id, std::int64_t campaign_id) {
    return [linker = unsubscribe->LinkerFor(site_id, campaign_id)](const std::string& email) {
      auto links = linker.For(email);
      return mail::UnsubscribeLinks{std::move(links.url), std::move(links.mailto)};
    };
  };
  hooks.dkim_signer = [this](std::int64_t site_id) {
    return [signers = std::make_shared<const mail::DkimSigners>(mail_dkim->SignersFor(site_id))](
               const std::string& from, const std::string& message) {
      return signers->empty() ? std::string() : signers->Sign(from, message);
    };
  };
  hooks.load_template = [this](std::int64_t site_id, std::int64_t template_id) {
    const auto t = mail_templates->Get(site_id, template_id);
    return mail::TemplateSource{t.source.subject, t.source.html, t.source.text};
  };
  hooks.send_test = [this](const audit::Origin& origin, std::int64_t site_id, std::optional<std::int64_t> account_id,
                           const mail::Mailbox& to, const mail::RenderedMessage& content) {
    mail::MessageRequest request;
    request.account_id = account_id;
    request.to = {to};
    request.subject = content.subject;
    request.html = content.html;
    request.text = content.text;
    mail::SendOptions options;
    options.created_by = origin.user_id;
    return mail_messages->Enqueue(origin, site_id, std::move(request), options).message.id;
  };
  hooks.site_contacts = [this](std::int64_t site_id) {
    std::vector<mail::Mailbox> out;
    contacts::ContactFilter filter;
    filter.status = contacts::StatusFilter::kAll;
    filter.limit = contacts::kMaxListLimit;
    for (;;) {
      auto page = contacts->List(site_id, filter);
      for (const auto& c : page.items) out.push_back({c.name, c.email});
      if (!page.next_cursor || out.size() >= mail::kMaxCampaignRecipients) break;
      filter.cursor = page.next_cursor;
    }
    return out;
  };
  hooks.site_timezone = [s = sites.get()](std::int64_t site_id) { return s->Get(site_id).timezone; };
  mail_campaigns = std::make_unique<mail::CampaignService>(*database, *queue, std::move(hooks));
  campaign_engine = std::make_unique<mail::CampaignEngine>(*mail_campaigns, *queue);
  workers->Register(std::string(mail::kCampaignStartJobKind),
                    [c = mail_campaigns.get()](const jobs::Job& job) { c->HandleStart(job); });
  workers->Register(std::string(mail::kCampaignBatchJobKind),
                    [e = campaign_engine.get()](const jobs::Job& job) { e->HandleBatch(job); });
  mail::RegisterCampaignRoutes(router, *mail_campaigns, {signed_in, site_access});
}

}  // namespace poste::app
