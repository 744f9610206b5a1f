// Wiring of the inbox (modules/inbox): services, job handlers and routes.
#include "app/parts.hpp"
#include "modules/inbox/inbox_routes.hpp"

namespace poste::app {

void App::Parts::SetUpInbox() {
  inbox::InboxOptions options;
  options.data_dir = config.data.dir;
  options.sync_interval_ms = config.inbox.sync_interval_seconds * 1000;
  options.max_message_bytes = config.inbox.max_message_bytes;
  options.max_attachment_bytes = config.inbox.max_attachment_bytes;
  options.max_messages_per_sync = static_cast<std::size_t>(config.inbox.max_messages_per_sync);
  options.policy = net::TargetPolicy::WithAllowList(config.inbox.allow_private_hosts);
  options.tls_ca_file = config.mail.tls_ca_file;
  // Bounces (wire_mail_bounces.cpp, set up later): each message synced into a site's bounce mailbox is read as a DSN.
  options.on_message = [this](const inbox::Account& account, std::int64_t, const mail::ParsedMessage& message) {
    if (mail_bounces) mail_bounces->ProcessInboxMessage(account.id, message);
  };
  inbox = std::make_unique<inbox::InboxService>(*database, *queue, *secrets, std::move(options));
  // A deleted site's or user's accounts go with them (the foreign keys' cascade): their attachment folders
  // (data/inbox/<account id>/) once the deletion has committed.
  sites->OnDeleted([i = inbox.get()](const sites::Site&) { i->ForgetDeletedAccounts(); });
  users->OnDeleted([i = inbox.get()](std::int64_t) { i->ForgetDeletedAccounts(); });
  workers->Register(std::string(inbox::kSyncJobKind),
                    [i = inbox.get()](const jobs::Job& job) { i->HandleSyncJob(job); });
  workers->Register(std::string(inbox::kSeenJobKind),
                    [i = inbox.get()](const jobs::Job& job) { i->HandleSeenJob(job); });
  inbox::RegisterRoutes(router, *inbox, signed_in);
}

}  // namespace poste::app
