#include "modules/mail/provider_events_service.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/crypto/random.hpp"
#include "lib/error.hpp"
#include "lib/mail/sendgrid_events.hpp"
#include "lib/mail/sns.hpp"
#include "lib/net/http_client.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/validate/text.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/mail/mail_bounce_service.hpp"
#include "modules/mail/mail_suppression_service.hpp"
#include "modules/mail/provider_events_store.hpp"

namespace poste::mail {

namespace {

constexpr std::size_t kMaxCachedCertificates = 32;
constexpr std::size_t kMaxTokenBytes = 128;

std::string TokenHash(std::string_view token) { return crypto::HexEncode(crypto::Sha256(token)); }

AppError NoEndpoint() { return AppError::NotFound("No such event endpoint."); }

AppError Forbidden(const std::string& why) {
  return AppError(ErrorCode::kForbidden, "The request's signature is not valid.", why);
}

nlohmann::json Snapshot(const ProviderEndpoint& e) {
  return {{"account_id", e.account_id}, {"provider", e.provider}, {"topic_arn", e.topic_arn}};
}

// A SendGrid event as a bounce report; nullopt for events that are no bounce or complaint.
std::optional<BounceReport> ReportOf(const SendGridEvent& e) {
  BounceReport r;
  const auto reason = validate::ascii::ToLower(e.reason);
  if (e.event == "bounce") {
    r.kind = e.type == "blocked" ? BounceKind::kSoft : BounceKind::kHard;
  } else if (e.event == "dropped") {
    // Dropped because the address bounced before or is invalid: as final as a bounce. Other drops
    // (unsubscribed, spam reporting, ...) are already on the list or no bounce.
    if (reason.find("bounced") == std::string::npos && reason.find("invalid") == std::string::npos) {
      return std::nullopt;
    }
    r.kind = BounceKind::kHard;
  } else if (e.event == "deferred") {
    r.kind = BounceKind::kSoft;
  } else if (e.event == "spamreport") {
    r.kind = BounceKind::kComplaint;
  } else {
    return std::nullopt;
  }
  r.email = e.email;
  r.source = "sendgrid";
  r.status = e.status;
  r.detail = e.reason.empty() ? e.event : e.reason;
  r.header_message_id = e.smtp_id;
  r.provider_message_id = SendGridMessageIdPrefix(e.sg_message_id);
  const auto identity = !e.sg_event_id.empty()
                            ? e.sg_event_id
                            : e.event + "\n" + validate::ascii::ToLower(e.email) + "\n" + std::to_string(e.timestamp) +
                                  "\n" + e.sg_message_id + "\n" + e.reason;
  r.dedupe_key = "sendgrid:" + crypto::HexEncode(crypto::Sha256(identity));
  r.occurred_at = e.timestamp * 1000;
  return r;
}

BounceReport ReportOf(const SesEvent& e, const std::string& sns_message_id) {
  BounceReport r;
  r.kind = e.kind == SesEventKind::kPermanentBounce ? BounceKind::kHard
           : e.kind == SesEventKind::kComplaint     ? BounceKind::kComplaint
                                                    : BounceKind::kSoft;
  r.email = e.email;
  r.source = "ses";
  r.status = e.status;
  r.detail = e.detail;
  r.header_message_id = e.header_message_id;
  r.provider_message_id = e.ses_message_id;
  // The feedback id names the event however many topics or retries carry it.
  const auto identity = e.feedback_id.empty() ? "sns:" + sns_message_id : "feedback:" + e.feedback_id;
  r.dedupe_key = "ses:" + crypto::HexEncode(crypto::Sha256(identity + "\n" + validate::ascii::ToLower(e.email)));
  r.occurred_at = e.occurred_at_ms;
  return r;
}

bool IsTokenShaped(std::string_view token) {
  return !token.empty() && token.size() <= kMaxTokenBytes && std::all_of(token.begin(), token.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

}  // namespace

ProviderEventsService::ProviderEventsService(db::Database& db, MailBouncesService& bounces,
                                             MailSuppressionsService& suppressions, const net::HttpClient& sns_client,
                                             ProviderEventsOptions options)
    : db_(db), bounces_(bounces), suppressions_(suppressions), sns_client_(sns_client), options_(std::move(options)) {}

std::int64_t ProviderEventsService::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<ProviderEndpoint> ProviderEventsService::List(std::int64_t site_id) {
  return db_.ReadValue([&](soci::session& s) { return provider_endpoint_store::List(s, site_id); });
}

void ProviderEventsService::Validate(std::int64_t site_id, ProviderEndpoint& e, const ProviderEndpointInput& in,
                                     bool creating) {
  std::vector<FieldError> errors;
  if (creating) {
    std::optional<std::string> type;
    if (in.account_id && options_.account_type) type = options_.account_type(site_id, *in.account_id);
    if (!type || (*type != "sendgrid" && *type != "ses")) {
      throw AppError::Validation(
          {{"account_id", "invalid", "must be one of the site's SendGrid or SES mail accounts"}});
    }
    e.account_id = *in.account_id;
    e.provider = *type;
  }
  if (e.provider == "sendgrid") {
    if (in.topic_arn && !in.topic_arn->empty()) errors.push_back({"topic_arn", "invalid", "is for SES endpoints only"});
    if (in.verification_key) e.verification_key = *in.verification_key;
    if (e.verification_key.empty()) {
      errors.push_back({"verification_key", "required", "is required: the key SendGrid shows for signed events"});
    } else if (!IsSendGridVerificationKey(e.verification_key)) {
      errors.push_back({"verification_key", "invalid", "must be SendGrid's base64 ECDSA P-256 public key"});
    }
  } else {
    if (in.verification_key && !in.verification_key->empty()) {
      errors.push_back({"verification_key", "invalid", "is for SendGrid endpoints only"});
    }
    if (in.topic_arn) {
      if (*in.topic_arn != e.topic_arn) e.confirmed_at.reset();  // another topic needs its own confirmation
      e.topic_arn = *in.topic_arn;
    }
    if (e.topic_arn.empty()) {
      errors.push_back({"topic_arn", "required", "is required: the SNS topic SES publishes to"});
    } else if (!IsSnsTopicArn(e.topic_arn)) {
      errors.push_back({"topic_arn", "invalid", "must be an SNS topic ARN (arn:aws:sns:region:account:name)"});
    }
  }
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
}

ProviderEndpointCreated ProviderEventsService::Create(const audit::Origin& origin, std::int64_t site_id,
                                                      const ProviderEndpointInput& in) {
  ProviderEndpoint e;
  e.site_id = site_id;
  Validate(site_id, e, in, true);
  auto token = crypto::RandomToken();
  e.token_hash = TokenHash(token);
  const auto now = Now();
  e = db_.WriteValue([&](soci::session& s) {
    if (provider_endpoint_store::GetByAccount(s, site_id, e.account_id)) {
      throw AppError::Conflict("The mail account already has an event endpoint.");
    }
    const auto id = provider_endpoint_store::Insert(s, e, now);
    audit::Record(s, audit::EntryFrom(origin, "mail_event_endpoint.create", "mail_event_endpoint", std::to_string(id),
                                      site_id, Snapshot(e)));
    auto stored = provider_endpoint_store::Get(s, site_id, id);
    if (!stored) throw AppError::Internal("event endpoint not found right after it was inserted");
    return *stored;
  });
  auto path = ProviderEventsPath(e.provider, token);
  return {std::move(e), std::move(token), std::move(path)};
}

ProviderEndpoint ProviderEventsService::Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                                               const ProviderEndpointInput& in) {
  const auto now = Now();
  return db_.WriteValue([&](soci::session& s) {
    auto e = provider_endpoint_store::Get(s, site_id, id);
    if (!e) throw NoEndpoint();
    Validate(site_id, *e, in, false);
    provider_endpoint_store::Update(s, *e, now);
    audit::Record(s, audit::EntryFrom(origin, "mail_event_endpoint.update", "mail_event_endpoint", std::to_string(id),
                                      site_id, Snapshot(*e)));
    auto stored = provider_endpoint_store::Get(s, site_id, id);
    if (!stored) throw AppError::Internal("event endpoint not found right after it was updated");
    return *stored;
  });
}

ProviderEndpointCreated ProviderEventsService::Rotate(const audit::Origin& origin, std::int64_t site_id,
                                                      std::int64_t id) {
  auto token = crypto::RandomToken();
  const auto now = Now();
  auto e = db_.WriteValue([&](soci::session& s) {
    auto found = provider_endpoint_store::Get(s, site_id, id);
    if (!found) throw NoEndpoint();
    found->token_hash = TokenHash(token);
    provider_endpoint_store::Update(s, *found, now);
    audit::Record(s, audit::EntryFrom(origin, "mail_event_endpoint.rotate", "mail_event_endpoint", std::to_string(id),
                                      site_id, nlohmann::json::object()));
    auto stored = provider_endpoint_store::Get(s, site_id, id);
    if (!stored) throw AppError::Internal("event endpoint not found right after it was updated");
    return *stored;
  });
  auto path = ProviderEventsPath(e.provider, token);
  return {std::move(e), std::move(token), std::move(path)};
}

void ProviderEventsService::Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  db_.Write([&](soci::session& s) {
    if (!provider_endpoint_store::Delete(s, site_id, id)) throw NoEndpoint();
    audit::Record(s, audit::EntryFrom(origin, "mail_event_endpoint.delete", "mail_event_endpoint", std::to_string(id),
                                      site_id, nlohmann::json::object()));
  });
}

std::optional<ProviderEndpoint> ProviderEventsService::EndpointOf(std::string_view token, std::string_view provider) {
  if (!IsTokenShaped(token)) return std::nullopt;
  auto e =
      db_.ReadValue([&](soci::session& s) { return provider_endpoint_store::GetByTokenHash(s, TokenHash(token)); });
  if (!e || e->provider != provider) return std::nullopt;
  return e;
}

ProviderEventsResult ProviderEventsService::HandleSendGrid(std::string_view token, std::string_view signature,
                                                           std::string_view timestamp, std::string_view body) {
  auto endpoint = EndpointOf(token, "sendgrid");
  if (!endpoint) throw NoEndpoint();
  if (signature.empty() || timestamp.empty()) {
    throw AppError(ErrorCode::kUnauthorized, "The request is not signed.", "sendgrid: signature headers missing");
  }
  // The timestamp is signed with the body: a captured post replayed later is refused outside the window.
  std::int64_t seconds = -1;
  if (timestamp.size() <= 12 &&
      std::all_of(timestamp.begin(), timestamp.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    seconds = std::stoll(std::string(timestamp));
  }
  const auto now = Now();
  if (seconds < 0 || std::abs(now - seconds * 1000) > options_.replay_window_ms) {
    throw Forbidden("sendgrid: timestamp outside the replay window");
  }
  if (!VerifySendGridSignature(endpoint->verification_key, signature, timestamp, body)) {
    throw Forbidden("sendgrid: signature does not verify");
  }
  std::string why;
  auto events = ParseSendGridEvents(body, &why);
  if (!events) {
    throw AppError::BadRequest("The body is not an array of SendGrid events.", {{"body", "invalid", why}});
  }
  ProviderEventsResult result;
  result.events = static_cast<std::int64_t>(events->size());
  for (const auto& e : *events) {
    if (e.event == "unsubscribe" || e.event == "group_unsubscribe") {
      if (!SuppressionAddress(e.email)) continue;
      auto outcome = suppressions_.Suppress(endpoint->site_id, e.email, SuppressionReason::kUnsubscribe,
                                            {"sendgrid", e.event, std::nullopt, std::nullopt});
      if (outcome.outcome != SuppressOutcome::kUnchanged) ++result.suppressed;
      continue;
    }
    auto report = ReportOf(e);
    if (report && bounces_.Record(endpoint->site_id, *report)) ++result.recorded;
  }
  db_.Write([&](soci::session& s) { provider_endpoint_store::MarkEvent(s, endpoint->site_id, endpoint->id, now); });
  return result;
}

std::string ProviderEventsService::Certificate(const std::string& url) {
  {
    std::lock_guard lock(certificates_mu_);
    if (auto it = certificates_.find(url); it != certificates_.end()) return it->second;
  }
  net::HttpRequest request;
  request.url = url;
  request.max_response_bytes = 64 * 1024;
  net::HttpResponse response;
  try {
    response = sns_client_.Send(request);
  } catch (const net::HttpError& e) {
    throw AppError::Unavailable("The SNS signing certificate could not be fetched.", std::string("sns: ") + e.what());
  }
  if (response.status != 200 || response.truncated || response.body.empty()) {
    throw AppError::Unavailable("The SNS signing certificate could not be fetched.",
                                "sns: certificate answered " + std::to_string(response.status));
  }
  std::lock_guard lock(certificates_mu_);
  if (certificates_.size() >= kMaxCachedCertificates) certificates_.clear();
  certificates_[url] = response.body;
  return response.body;
}

ProviderEventsResult ProviderEventsService::HandleSns(std::string_view token, std::string_view body) {
  auto endpoint = EndpointOf(token, "ses");
  if (!endpoint) throw NoEndpoint();
  std::string why;
  auto message = ParseSnsMessage(body, &why);
  if (!message) throw AppError::BadRequest("The body is not an SNS message.", {{"body", "invalid", why}});
  if (message->topic_arn != endpoint->topic_arn) throw Forbidden("sns: another topic");
  if (!SnsUrlAllowed(message->signing_cert_url, options_.sns_extra_hosts)) {
    throw Forbidden("sns: certificate URL not on an SNS host");
  }
  const auto now = Now();
  if (!VerifySnsSignature(*message, Certificate(message->signing_cert_url), now / 1000)) {
    throw Forbidden("sns: signature does not verify");
  }
  ProviderEventsResult result;
  if (message->type == "SubscriptionConfirmation") {
    if (!SnsUrlAllowed(message->subscribe_url, options_.sns_extra_hosts)) {
      throw Forbidden("sns: SubscribeURL not on an SNS host");
    }
    net::HttpRequest request;
    request.url = message->subscribe_url;
    net::HttpResponse response;
    try {
      response = sns_client_.Send(request);
    } catch (const net::HttpError& e) {
      throw AppError::Unavailable("The SNS subscription could not be confirmed.", std::string("sns: ") + e.what());
    }
    if (response.status < 200 || response.status >= 300) {
      throw AppError::Unavailable("The SNS subscription could not be confirmed.",
                                  "sns: SubscribeURL answered " + std::to_string(response.status));
    }
    db_.Write(
        [&](soci::session& s) { provider_endpoint_store::MarkConfirmed(s, endpoint->site_id, endpoint->id, now); });
    result.confirmed = true;
    return result;
  }
  if (message->type == "Notification") {
    // Another kind of notification on the topic is not an error of the post: SNS would retry it for nothing.
    if (auto events = ParseSesNotification(message->message)) {
      result.events = static_cast<std::int64_t>(events->size());
      for (const auto& e : *events) {
        if (bounces_.Record(endpoint->site_id, ReportOf(e, message->message_id))) ++result.recorded;
      }
    }
  }
  db_.Write([&](soci::session& s) { provider_endpoint_store::MarkEvent(s, endpoint->site_id, endpoint->id, now); });
  return result;
}

}  // namespace poste::mail
