#pragma once
// SendGrid's Event Webhook (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event):
// the signed POST SendGrid makes with a JSON array of events, and the check of its signature as SendGrid
// publishes it ("Getting started with the Event Webhook Security Features"): an ECDSA P-256 / SHA-256
// signature, base64 DER, in X-Twilio-Email-Event-Webhook-Signature, over the bytes of the timestamp header
// X-Twilio-Email-Event-Webhook-Timestamp followed by the raw body, verified with the "verification key"
// SendGrid shows (a base64 DER SubjectPublicKeyInfo).
//
// Everything here is outside input: parsing never throws, values are single line and bounded, and an event
// that is not understood is skipped rather than guessed at.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poste::mail {

inline constexpr std::string_view kSendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature";
inline constexpr std::string_view kSendGridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp";
inline constexpr std::size_t kMaxSendGridEvents = 10000;   // in one POST
inline constexpr std::size_t kMaxSendGridKeyBytes = 1024;  // of the pasted base64 key

// Whether `key_base64` is an EC P-256 public key (base64 DER SubjectPublicKeyInfo), as SendGrid shows it.
bool IsSendGridVerificationKey(std::string_view key_base64);

// The check SendGrid publishes. False for a bad key, a signature that is not base64 DER, or one that does
// not verify. Constant work for a given length; never throws.
bool VerifySendGridSignature(std::string_view key_base64, std::string_view signature_base64, std::string_view timestamp,
                             std::string_view body);

// One event, as SendGrid sends it (fields absent in the JSON are empty).
struct SendGridEvent {
  std::string event;           // "bounce", "dropped", "deferred", "spamreport", "unsubscribe"...
  std::string email;           // the recipient
  std::string type;            // bounce events: "bounce" or "blocked"
  std::string reason;          // bounce / dropped / deferred: the server's answer or SendGrid's reason
  std::string status;          // the enhanced status code, e.g. "5.1.1"
  std::string sg_event_id;     // unique per event: SendGrid may post an event twice
  std::string sg_message_id;   // "<X-Message-Id>.filter..."
  std::string smtp_id;         // "smtp-id": the Message-ID header, with <>
  std::int64_t timestamp = 0;  // Unix seconds
};

// The events of a webhook body (a JSON array of objects), or nullopt with the reason in *why when the body
// is not one: not JSON, not an array, nested deeper than events are, more than kMaxSendGridEvents. Events
// without an event name or a usable address are skipped; strings are cut at 1000 bytes and CR/LF removed.
std::optional<std::vector<SendGridEvent>> ParseSendGridEvents(std::string_view body, std::string* why = nullptr);

// The X-Message-Id SendGrid answered at sending: sg_message_id up to its first '.'.
std::string SendGridMessageIdPrefix(std::string_view sg_message_id);

}  // namespace poste::mail
