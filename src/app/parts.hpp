#pragma once
// The App's parts (internal to src/app): every service, store and route of the running server, built in
// declaration order. Each capability wires itself in its own file (wire_<capability>.cpp defines its
// Parts::SetUp<Capability>), so the modules' wiring does not pile up in app.cpp.
#include <memory>
#include <mutex>
#include <vector>

#include "app/app.hpp"
#include "app/config.hpp"
#include "db/database.hpp"
#include "http/http_metrics.hpp"
#include "http/pipeline.hpp"
#include "jobs/job_queue.hpp"
#include "jobs/worker_pool.hpp"
#include "lib/async/blocking_pool.hpp"
#include "lib/cache/ready_cache.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/metrics/metrics.hpp"
#include "lib/net/http_client.hpp"
#include "lib/ratelimit/memory_backoff.hpp"
#include "lib/ratelimit/memory_limiter.hpp"
#include "lib/ratelimit/middleware.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/auth/auth_guard.hpp"
#include "modules/auth/auth_routes.hpp"
#include "modules/contacts/contacts_service.hpp"
#include "modules/content/content_service.hpp"
#include "modules/inbox/inbox_service.hpp"
#include "modules/mail/campaign_engine.hpp"
#include "modules/mail/mail_account_service.hpp"
#include "modules/mail/mail_bounce_service.hpp"
#include "modules/mail/mail_dkim_service.hpp"
#include "modules/mail/mail_message_compose.hpp"
#include "modules/mail/mail_message_service.hpp"
#include "modules/mail/mail_oauth_service.hpp"
#include "modules/mail/mail_signature_service.hpp"
#include "modules/mail/mail_stats_service.hpp"
#include "modules/mail/mail_suppression_service.hpp"
#include "modules/mail/mail_template_service.hpp"
#include "modules/mail/provider_events_service.hpp"
#include "modules/mail/unsubscribe_service.hpp"
#include "modules/media/media_service.hpp"
#include "modules/public_api/site_directory.hpp"
#include "modules/seo/seo_service.hpp"
#include "modules/sites/sites_routes.hpp"
#include "modules/sites/sites_service.hpp"
#include "modules/sites/sites_store.hpp"
#include "modules/system/system_routes.hpp"
#include "modules/users/users_routes.hpp"
#include "modules/users/users_service.hpp"
#include "modules/webhooks/webhooks_service.hpp"

namespace poste::app {

// Declaration order is construction order: each part only uses parts declared above it.
struct App::Parts {
  explicit Parts(const Config& c);
  ~Parts();

  // Each capability in its wire_<name>.cpp: identity; then issue 4's collections and entries, media,
  // contacts and webhooks, and SEO with the public read API (after content: it serves the entries).
  void SetUpIdentity();
  void SetUpContent();
  void SetUpMedia();
  void SetUpContacts();
  void SetUpPublic();
  // Issue 5's mail engine: accounts and transports; templates, signatures, suppressions and unsubscribe;
  // the inbox.
  void SetUpMailDkim();  // dkim-tls: before SetUpMail, whose send path signs with it
  void SetUpMail();
  void SetUpMailTemplates();
  void SetUpInbox();
  void SetUpMailCampaigns();  // after mail, mail templates and contacts: it uses them
  void SetUpMailOAuth();      // oauth: after mail (it stores into the accounts)
  void SetUpMailBounces();    // bounces: after the inbox and campaigns (its hook reads the bounce mailbox)
  void SetUpMailMessages();   // messages: after templates and the inbox (messages from templates, replies)
  void RegisterMetrics();
  // Runs on the blocking pool before each scrape: the gauge callbacks themselves must not run SQL.
  void RefreshJobCounts();

  Config config;
  BlockingPool* previous_pool = nullptr;  // restored on destruction (tests build several apps)
  BlockingPool blocking;
  metrics::Registry registry;
  std::unique_ptr<db::Database> database;
  std::unique_ptr<jobs::JobQueue> queue;
  std::unique_ptr<jobs::WorkerPool> workers;
  web::Router router;
  crypto::SecretKey master_key{};
  std::unique_ptr<crypto::SecretBox> secrets;
  std::unique_ptr<auth::TokenService> tokens;
  ratelimit::MemoryBackoff login_failures;
  ratelimit::MemoryLimiter limiter;
  std::unique_ptr<auth::LoginService> login;
  std::unique_ptr<auth::CredentialsService> credentials;
  std::unique_ptr<auth::AuthGuard> guard;
  std::unique_ptr<users::UsersService> users;
  std::unique_ptr<sites::SitesService> sites;
  std::unique_ptr<audit::AuditService> audit;
  auth::SiteResolver site_resolver;
  // The middleware chains later capabilities reuse: a signed-in caller (rate limits, authentication), and
  // the checks for admin only and for access to the {site} of the path (404 otherwise).
  std::vector<web::Middleware> signed_in;
  std::vector<web::Middleware> admin_only;
  std::vector<web::Middleware> site_access;
  // --- issue 4 parts: each capability adds its members in its block ---
  // content
  std::unique_ptr<content::ContentService> content;
  // media
  std::unique_ptr<media::MediaService> media;
  // contacts and webhooks
  std::unique_ptr<contacts::ContactsService> contacts;
  std::unique_ptr<net::HttpClient> webhook_client;
  std::unique_ptr<webhooks::WebhooksService> webhooks;
  // seo and public
  std::unique_ptr<cache::ReadyCache> public_cache;  // ready answers of /api/v1/public (server.public_cache_bytes)
  std::unique_ptr<public_api::SiteDirectory> public_sites;  // the sites /api/v1/public found, by id or slug
  std::unique_ptr<seo::SeoService> seo;
  // --- end issue 4 parts ---
  // --- issue 5 parts: each capability adds its members in its block ---
  // --- dkim-tls: DKIM keys per site (wire_mail_dkim.cpp; before mail: the send path signs with it)
  std::unique_ptr<mail::MailDkimService> mail_dkim;
  // --- end dkim-tls
  // mail accounts and transports (wire_mail.cpp)
  std::unique_ptr<mail::MailAccountsService> mail_accounts;
  std::unique_ptr<mail::MailMessagesService> mail_messages;  // single messages; Enqueue for later callers
  // mail templates, signatures, suppressions, unsubscribe (wire_mail_templates.cpp)
  std::unique_ptr<mail::MailTemplatesService> mail_templates;
  std::unique_ptr<mail::MailSignaturesService> mail_signatures;
  std::unique_ptr<mail::MailSuppressionsService> mail_suppressions;
  std::unique_ptr<mail::UnsubscribeService> unsubscribe;  // List-Unsubscribe links and the /u/{token} endpoints
  // inbox (wire_inbox.cpp)
  std::unique_ptr<inbox::InboxService> inbox;
  // campaigns (wire_mail_campaigns.cpp)
  std::unique_ptr<mail::CampaignService> mail_campaigns;
  std::unique_ptr<mail::CampaignEngine> campaign_engine;
  // --- bounces: DSNs of the bounce mailbox, SendGrid / SES event webhooks (wire_mail_bounces.cpp)
  std::unique_ptr<mail::MailBouncesService> mail_bounces;
  std::unique_ptr<net::HttpClient> sns_client;  // SNS certificates and subscription confirmations
  std::unique_ptr<mail::ProviderEventsService> provider_events;
  // --- end bounces
  // --- oauth: the OAuth2 connection of Gmail / Outlook accounts (wire_mail_oauth.cpp)
  std::unique_ptr<mail::MailOAuthService> mail_oauth;
  // --- end oauth
  // --- messages: composing from templates and signatures, inbox replies, stats (wire_mail_messages.cpp)
  std::unique_ptr<mail::MessageComposer> message_composer;
  std::unique_ptr<mail::MailStatsService> mail_stats;
  // --- end messages
  // --- end issue 5 parts ---
  std::unique_ptr<http::HttpMetrics> http_metrics;
  std::unique_ptr<http::Pipeline> pipeline;
  std::mutex job_counts_mu;
  metrics::LabelledValues job_counts;
};

}  // namespace poste::app
