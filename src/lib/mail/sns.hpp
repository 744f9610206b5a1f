#pragma once
// Amazon SNS HTTP(S) deliveries and the Amazon SES notifications they carry.
//
// SNS signs each message as AWS documents ("Verifying the signatures of Amazon SNS messages"): the string
// to sign is "Key\nValue\n" for each of the fields of the message's Type, in this order —
//   Notification:                               Message, MessageId, Subject (only when present), Timestamp,
//                                               TopicArn, Type
//   SubscriptionConfirmation / UnsubscribeConfirmation: Message, MessageId, SubscribeURL, Timestamp, Token,
//                                               TopicArn, Type
// — signed with SHA1withRSA (SignatureVersion "1") or SHA256withRSA ("2") by the key of the X.509
// certificate at SigningCertURL, which must be an https URL on sns.<region>.amazonaws.com.
//
// SES notifications (the Message of a Notification): the "notificationType" shape of SES notifications and
// the "eventType" shape of SES event publishing, Bounce and Complaint (Delivery and other events are read
// and ignored). Everything here is outside input: parsing never throws, values are single line and bounded.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace poste::mail {

inline constexpr std::size_t kMaxSnsBodyBytes = 512 * 1024;  // 256 KB of message, escaped in the JSON
inline constexpr std::size_t kMaxSesRecipients = 1000;

struct SnsMessage {
  std::string type;  // "Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"
  std::string message_id;
  std::string token;  // confirmations only
  std::string topic_arn;
  std::optional<std::string> subject;  // notifications; signed only when present
  std::string message;
  std::string timestamp;
  std::string signature_version;  // "1" or "2"
  std::string signature;          // base64
  std::string signing_cert_url;
  std::string subscribe_url;  // confirmations only
};

// The SNS message of a POST body, or nullopt with the reason in *why: not a JSON object, a required field
// missing or not a string, an unknown Type or SignatureVersion, a field with control characters where
// none can be (every field but Message and Subject).
std::optional<SnsMessage> ParseSnsMessage(std::string_view body, std::string* why = nullptr);

// The canonical string SNS signed.
std::string SnsStringToSign(const SnsMessage& message);

// Whether the message's signature verifies with the public key of `certificate_pem` (which must be valid
// now: `now_unix`). Never throws.
bool VerifySnsSignature(const SnsMessage& message, std::string_view certificate_pem, std::int64_t now_unix);

// Whether SNS may send us to `url` (SigningCertURL, SubscribeURL): https on the default port, a host
// sns.<region>.amazonaws.com (or .amazonaws.com.cn), no user info; or, for tests and private stand-ins, a
// URL whose "host" or "host:port" is one of `extra_hosts` (then http is allowed too). The URL parser is
// net::ParseHttpUrl's (strict: no user info, fragments, spaces, control or non-ASCII characters).
bool SnsUrlAllowed(std::string_view url, const std::vector<std::string>& extra_hosts);

// Whether `entry` is a valid extra host: a host name or IP address, optionally ":port".
bool IsValidSnsHostEntry(std::string_view entry);

enum class SesEventKind { kPermanentBounce, kTransientBounce, kUndeterminedBounce, kComplaint };

struct SesEvent {
  SesEventKind kind = SesEventKind::kTransientBounce;
  std::string email;
  std::string status;               // bounces: the enhanced status code when given
  std::string detail;               // diagnosticCode, bounceSubType or complaintFeedbackType
  std::string feedback_id;          // bounce.feedbackId / complaint.feedbackId
  std::string ses_message_id;       // mail.messageId: what SES answered at sending
  std::string header_message_id;    // mail.commonHeaders.messageId, without <>; may be empty
  std::int64_t occurred_at_ms = 0;  // bounce / complaint timestamp; 0 when absent or malformed
};

// The bounce and complaint recipients of an SES notification (the Message string of an SNS
// Notification), or nullopt with *why when it is not an SES notification. A Delivery or any other
// notification is an empty list. At most kMaxSesRecipients recipients are read.
std::optional<std::vector<SesEvent>> ParseSesNotification(std::string_view message, std::string* why = nullptr);

// "2016-01-27T14:59:38.237Z" (or with +hh:mm) as epoch ms; nullopt when malformed.
std::optional<std::int64_t> ParseIsoTimestampMs(std::string_view text);

}  // namespace poste::mail
