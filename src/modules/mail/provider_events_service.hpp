#pragma once
// Providers' event webhooks: the endpoints an admin makes for a SendGrid or SES mail account, and the
// handling of what the providers post to them — SendGrid's signed Event Webhook, and Amazon SNS
// deliveries of SES notifications (signature checked against the certificate SNS names, which is fetched
// only from sns.<region>.amazonaws.com over https; the topic must be the endpoint's). Bounces and
// complaints go to MailBouncesService::Record; unsubscribes to the suppression list. No HTTP routing here.
//
// Every member blocks (SQL, outbound HTTP): call it through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/audit/audit_types.hpp"
#include "modules/mail/provider_events_types.hpp"

namespace poste::db {
class Database;
}
namespace poste::net {
class HttpClient;
}

namespace poste::mail {

class MailBouncesService;
class MailSuppressionsService;
struct SnsMessage;

struct ProviderEventsOptions {
  // The type of the site's mail account ("sendgrid", "ses"...), nullopt when the site has no such account.
  std::function<std::optional<std::string>(std::int64_t site_id, std::int64_t account_id)> account_type;
  // Hosts ("host" or "host:port") SNS URLs may name besides sns.<region>.amazonaws.com, for tests and
  // private stand-ins (config mail.sns_certificate_hosts); http is allowed for them.
  std::vector<std::string> sns_extra_hosts;
  std::int64_t replay_window_ms = kSendGridReplayWindowMs;
  std::function<std::int64_t()> now_ms;  // epoch ms; default: the system clock
};

// An endpoint as made or with a new token: the path (with the token) is in this answer only.
struct ProviderEndpointCreated {
  ProviderEndpoint endpoint;
  std::string token;
  std::string path;
};

struct ProviderEventsResult {
  std::int64_t events = 0;      // read from the post
  std::int64_t recorded = 0;    // bounces and complaints recorded (duplicates not counted)
  std::int64_t suppressed = 0;  // unsubscribes listed
  bool confirmed = false;       // SNS: the subscription was confirmed
};

class ProviderEventsService {
 public:
  // `sns_client` fetches SNS certificates and confirms subscriptions (its target policy applies).
  ProviderEventsService(db::Database& db, MailBouncesService& bounces, MailSuppressionsService& suppressions,
                        const net::HttpClient& sns_client, ProviderEventsOptions options);

  std::vector<ProviderEndpoint> List(std::int64_t site_id);
  // 422 with field errors (account_id not a SendGrid or SES account of the site, a missing or invalid
  // verification key or topic ARN); 409 when the account has an endpoint. Audited.
  ProviderEndpointCreated Create(const audit::Origin& origin, std::int64_t site_id, const ProviderEndpointInput& in);
  ProviderEndpoint Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                          const ProviderEndpointInput& in);
  // A new token: the old path stops working at once. Audited.
  ProviderEndpointCreated Rotate(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);
  void Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);

  // A SendGrid Event Webhook POST. 404 for an unknown token (or one of an SES endpoint); 401 without the
  // signature headers; 403 for a timestamp outside the replay window or a signature that does not verify;
  // 400 for a body that is not an array of events.
  ProviderEventsResult HandleSendGrid(std::string_view token, std::string_view signature, std::string_view timestamp,
                                      std::string_view body);
  // An SNS POST. 404 for an unknown token (or one of a SendGrid endpoint); 400 for a body that is not an
  // SNS message; 403 for another topic, a certificate URL not on SNS's hosts, a signature that does not
  // verify; 503 when the certificate or the confirmation URL cannot be fetched (SNS retries).
  ProviderEventsResult HandleSns(std::string_view token, std::string_view body);

 private:
  std::int64_t Now() const;
  std::optional<ProviderEndpoint> EndpointOf(std::string_view token, std::string_view provider);
  std::string Certificate(const std::string& url);
  void Validate(std::int64_t site_id, ProviderEndpoint& e, const ProviderEndpointInput& in, bool creating);

  db::Database& db_;
  MailBouncesService& bounces_;
  MailSuppressionsService& suppressions_;
  const net::HttpClient& sns_client_;
  ProviderEventsOptions options_;
  std::mutex certificates_mu_;
  std::map<std::string, std::string> certificates_;  // SigningCertURL -> PEM
};

}  // namespace poste::mail
