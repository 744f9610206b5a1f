// Wiring of mail accounts and transports (modules/mail): services, job handlers and routes.
#include <filesystem>

#include "app/parts.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/mail/oauth2.hpp"
#include "lib/mail/sendgrid.hpp"
#include "lib/mail/ses.hpp"
#include "lib/mail/smtp_client.hpp"
#include "modules/mail/mail_account_routes.hpp"

namespace poste::app {

void App::Parts::SetUpMail() {
  mail::AccountsOptions account_options;
  account_options.transports.outbox_root = config.data.dir + "/mail/outbox";
  account_options.transports.smtp_policy = mail::SmtpTargetPolicy(config.mail.smtp_allow_targets);
  account_options.transports.tls_ca_file = config.mail.tls_ca_file;
  // Provider transports: SendGrid and Amazon SES over HTTPS, Gmail and Outlook over SMTP with XOAUTH2 and an
  // access token from the account's refresh token (kept until a minute before it expires).
  const net::HttpClientOptions provider_http{std::string("Poste-Mail/") + POSTE_VERSION, net::TargetPolicy()};
  account_options.transports.sendgrid = [provider_http](const mail::Account& a) -> std::unique_ptr<mail::Transport> {
    mail::SendGridOptions options;
    options.api_key = a.secrets.count("api_key") ? a.secrets.at("api_key") : "";
    return std::make_unique<mail::SendGridTransport>(options, net::HttpClient(provider_http));
  };
  account_options.transports.ses = [provider_http](const mail::Account& a) -> std::unique_ptr<mail::Transport> {
    mail::SesOptions options;
    options.region = a.settings.value("region", "");
    options.credentials.access_key_id = a.settings.value("access_key_id", "");
    options.credentials.secret_access_key =
        a.secrets.count("secret_access_key") ? a.secrets.at("secret_access_key") : "";
    options.endpoint = a.settings.value("endpoint", "");
    return std::make_unique<mail::SesTransport>(options, net::HttpClient(provider_http));
  };
  // Tokens are cached per account and per credentials (a reconnected account gets a new key); a token the
  // server refused is dropped; a refresh token the provider rotated is stored in place of the old one.
  // Token endpoints under the same rule as the browser flow's (mail.oauth_allow_targets): an account connected
  // through a listed endpoint must refresh through it too.
  const net::HttpClientOptions token_http{std::string("Poste-Mail/") + POSTE_VERSION,
                                          net::TargetPolicy::WithAllowList(config.mail.oauth_allow_targets)};
  account_options.transports.oauth_access_token =
      [this, token_http, cache = std::make_shared<mail::AccessTokenCache>()](const mail::Account& a, bool fresh) {
        auto provider = a.type == "outlook" ? mail::OutlookOAuth2() : mail::GmailOAuth2();
        if (auto url = a.settings.value("token_url", ""); !url.empty()) provider.token_endpoint = url;
        auto secret = [&](const char* name) { return a.secrets.count(name) ? a.secrets.at(name) : std::string(); };
        const mail::OAuth2App app{a.settings.value("client_id", ""), secret("client_secret"), ""};
        const std::string refresh_token = secret("refresh_token");
        const std::string key = std::to_string(a.id) + ":" +
                                crypto::HexEncode(crypto::Sha256(a.type + "\n" + app.client_id + "\n" + refresh_token +
                                                                 "\n" + provider.token_endpoint));
        if (fresh) cache->Forget(key);
        mail::OAuth2TokenClient client(provider, app, net::HttpClient(token_http));
        return cache->Get(key, [&] {
          auto tokens = client.Refresh(refresh_token);
          if (!tokens.refresh_token.empty() && tokens.refresh_token != refresh_token) {
            mail_accounts->ReplaceSecret(a.site_id, a.id, "refresh_token", tokens.refresh_token);
          }
          return tokens;
        });
      };
  // A site without accounts sends through its outbox, From its contact address (else noreply@ its domain).
  account_options.outbox_from = [s = sites.get()](std::int64_t site_id) {
    const auto site = s->Get(site_id);
    if (mail::IsValidAddress(site.contact.email)) return mail::Mailbox{site.name, site.contact.email};
    const std::string domain = site.domains.empty() ? "localhost.localdomain" : site.domains.front();
    return mail::Mailbox{site.name, "noreply@" + domain};
  };
  mail_accounts = std::make_unique<mail::MailAccountsService>(*database, *secrets, std::move(account_options));
  mail::RegisterAccountRoutes(router, *mail_accounts, {signed_in, site_access, admin_only});
  // A deleted site's outbox goes with it (its accounts and messages go by ON DELETE CASCADE).
  sites->OnDeleted([root = mail_accounts->transport_settings()](const sites::Site& site) {
    std::error_code ec;
    std::filesystem::remove_all(mail::OutboxDir(root, site.id), ec);
  });

  mail::MessagesOptions message_options;
  message_options.max_attempts = static_cast<int>(config.mail.max_attempts);
  message_options.site_timezone = [s = sites.get()](std::int64_t site_id) { return s->Get(site_id).timezone; };
  message_options.media_attachment = [m = media.get()](std::int64_t site_id,
                                                       std::int64_t media_id) -> std::optional<mail::Attachment> {
    try {
      const auto item = m->Get(site_id, media_id);
      mail::Attachment a;
      a.filename = item.filename.empty() ? "attachment." + item.ext : item.filename;
      a.content_type = item.content_type;
      a.path = m->PathOf(item);
      return a;
    } catch (const AppError& e) {
      if (e.code() == ErrorCode::kNotFound) return std::nullopt;
      throw;
    }
  };
  message_options.dkim_signature = [d = mail_dkim.get()](std::int64_t site_id, const std::string& from,
                                                         const std::string& message) {
    return d->SignatureFor(site_id, from, message);
  };
  mail_messages =
      std::make_unique<mail::MailMessagesService>(*database, *queue, *mail_accounts, std::move(message_options));
  workers->Register(std::string(mail::kSendJobKind),
                    [m = mail_messages.get()](const jobs::Job& job) { m->HandleSend(job); });
  // The messages' routes: wire_mail_messages.cpp (they compose from templates and signatures).
}

}  // namespace poste::app
