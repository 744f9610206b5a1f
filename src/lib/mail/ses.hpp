#pragma once
// Amazon SES API v2 as a Transport: SendEmail (POST /v2/email/outbound-emails) with the built MIME bytes
// as Content.Raw.Data, signed with AWS Signature Version 4 (service "ses"). With raw content SES takes
// the headers from the bytes and the envelope from Destination, so every envelope recipient is listed
// there (Bcc recipients are in no header). SES replaces the message's Message-ID with its own (AWS's
// "header fields" page; widely observed), so replies reference SesMessageIdHeader(region, MessageId), not the
// built id: the send path records that one for threading.
//
// Answers: 200 sent (provider id: MessageId); 408, 429, 5xx, throttling errors, timeouts and connection
// failures temporary; MessageRejected, MailFromDomainNotVerifiedException, signature and other 4xx
// errors permanent, with the status, the error type and SES's message as the answer.
#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "lib/mail/delivery.hpp"
#include "lib/mail/sigv4.hpp"
#include "lib/net/http_client.hpp"

namespace poste::mail {

struct SesOptions {
  std::string region;  // "eu-west-1": the endpoint and the signature's scope
  SigV4Credentials credentials;
  std::string configuration_set;  // optional ConfigurationSetName (event publishing: bounces, complaints)
  std::string endpoint;           // empty: https://email.{region}.amazonaws.com (tests: a stand-in)
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{30000};
  std::function<std::chrono::system_clock::time_point()> clock;  // the signing time; empty: the system clock
};

// https://email.{region}.amazonaws.com; empty when the region is not valid.
std::string SesEndpoint(std::string_view region);

// The Message-ID recipients see on a message SES sent: "<{MessageId}@{region}.amazonses.com>"
// ("email.amazonses.com" in us-east-1). Empty when the id or the region is not plausible.
std::string SesMessageIdHeader(std::string_view region, std::string_view message_id);

class SesTransport final : public Transport {
 public:
  // `http`'s target policy decides which hosts the endpoint may name (public ones only by default).
  SesTransport(SesOptions options, net::HttpClient http);

  DeliveryResult Send(const Delivery& delivery) override;
  // GET /v2/email/account: kSent when the credentials work and sending is enabled (the answer gives the
  // quota, the rate, the sandbox state and the enforcement status), or when they work but the IAM policy
  // denies ses:GetAccount (AccessDeniedException: the answer says sending was not tried); kPermanent when
  // sending is disabled or the credentials are refused.
  DeliveryResult Check() override;

 private:
  net::HttpResponse Call(const std::string& method, const std::string& path, const std::string& body) const;

  SesOptions options_;
  net::HttpClient http_;
};

// The JSON body of SendEmail for `delivery`: FromEmailAddress (the From address, ASCII), Destination
// (the envelope recipients split into To / Cc / Bcc after the message's lists), Content.Raw.Data
// (base64 of the built bytes), FeedbackForwardingEmailAddress (the envelope sender when it differs from
// the From address), ConfigurationSetName when given. Throws AppError::BadRequest without built bytes or
// envelope recipients.
std::string SesSendEmailBody(const Delivery& delivery, std::string_view configuration_set);

}  // namespace poste::mail
