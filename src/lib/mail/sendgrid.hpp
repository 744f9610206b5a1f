#pragma once
// SendGrid's v3 Mail Send API as a Transport: POST {base_url}/v3/mail/send with the message as SendGrid's
// JSON (personalizations, from, reply_to, subject, content, attachments, headers), authenticated with an
// API key (Authorization: Bearer). Built from the structured OutgoingMessage, not the MIME bytes:
// SendGrid builds its own MIME. The Message-ID (the built message's, so the stored id is the sent one),
// In-Reply-To, References and List-Unsubscribe travel in "headers", so replies thread and one-click
// unsubscribe works as with SMTP.
//
// Answers: 2xx sent (provider id: the X-Message-Id header); 408, 429, 5xx, timeouts and connection
// failures temporary; other 4xx permanent, with the status and SendGrid's body as the answer.
#include <chrono>
#include <string>
#include <string_view>

#include "lib/mail/delivery.hpp"
#include "lib/net/http_client.hpp"

namespace poste::mail {

inline constexpr std::string_view kSendGridBaseUrl = "https://api.sendgrid.com";  // EU: https://api.eu.sendgrid.com

struct SendGridOptions {
  std::string api_key;                                   // "SG.xxx", sent as Authorization: Bearer
  std::string base_url = std::string(kSendGridBaseUrl);  // scheme://host[:port], no path (tests: a stand-in)
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{30000};  // a 25 MiB attachment takes a while to upload
};

class SendGridTransport final : public Transport {
 public:
  // `http`'s target policy decides which hosts base_url may name (public ones only by default).
  SendGridTransport(SendGridOptions options, net::HttpClient http);

  DeliveryResult Send(const Delivery& delivery) override;
  // GET /v3/scopes: kSent when the key works and holds the "mail.send" scope; kPermanent when the key is
  // refused (401/403) or lacks the scope; the answer says which.
  DeliveryResult Check() override;

 private:
  SendGridOptions options_;
  net::HttpClient http_;
};

// The JSON body of POST /v3/mail/send for `delivery`: one personalization with to / cc / bcc (each address
// once, as SendGrid requires; only the delivery's envelope recipients when it names them; with no To
// address left, one personalization per recipient), content text/plain then text/html (the text derived
// from the HTML when the message has none), attachments in base64 (inline ones with their content_id when
// there is HTML), non-ASCII header values RFC 2047-encoded, recipient names holding one of ( ) , : ; < > @ [ ]
// " \ sent as a quoted-string (SendGrid writes them into the header unquoted otherwise, and a comma there
// splits the address: its documented limitation). Throws AppError::Validation when the message
// is invalid (ValidateMessage) or an attachment's file cannot be read.
std::string SendGridMailBody(const Delivery& delivery);

}  // namespace poste::mail
