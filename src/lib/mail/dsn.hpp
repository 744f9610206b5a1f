#pragma once
// Bounces: delivery status notifications (RFC 3464 multipart/report; report-type=delivery-status, and its
// RFC 6533 message/global-delivery-status form) read from a received message, plus qmail's plain-text
// bounce, the common non-standard form. Every field comes from outside and is untrusted: values are single
// line, bounded, and a recipient is kept only when it looks like an address.
//
// For the bounce mailbox: run FindBounces on each synced message; each Bounce says who bounced, whether
// for good (hard: a 5.x.x status, or Action: failed without a status) or for now (soft: 4.x.x, delayed),
// and the Message-ID of the message that bounced, to find it among the sent ones.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/mail/mime_parse.hpp"

namespace poste::mail {

enum class BounceClass { kHard, kSoft, kUnknown };
std::string_view BounceClassName(BounceClass c);  // "hard", "soft", "unknown"

// "5.1.1" -> kHard, "4.2.2" -> kSoft, anything else (2.x.x, malformed) -> kUnknown.
BounceClass ClassifyStatus(std::string_view status);

struct DsnRecipient {
  std::string final_recipient;     // the address, without the "rfc822;" type and without <>
  std::string original_recipient;  // the same, when the report gives it
  std::string action;              // lower case: failed, delayed, delivered, relayed, expanded
  std::string status;              // "5.1.1"; empty when none could be found
  std::string diagnostic;          // Diagnostic-Code without its type ("550 5.1.1 ... no such user")
  std::string remote_mta;          // without its type
  BounceClass kind = BounceClass::kUnknown;
};

struct DeliveryReport {
  std::string reporting_mta;
  std::string original_envelope_id;
  std::string original_message_id;  // of the message that bounced, without <>; empty when not returned
  std::vector<DsnRecipient> recipients;
  bool standard = true;  // false: read from a non-standard (qmail) bounce text
};

// The report of a bounce, or nullopt when the message is not one.
std::optional<DeliveryReport> ParseDeliveryReport(const ParsedMessage& message);

struct Bounce {
  std::string recipient;
  BounceClass kind = BounceClass::kUnknown;
  std::string status;
  std::string diagnostic;
  std::string original_message_id;
};

// The failed and delayed recipients of a bounce (none for a message that is not a bounce, or for a
// report of successful delivery).
std::vector<Bounce> FindBounces(const ParsedMessage& message);

// The groups of "Name: value" fields of a delivery-status body (continuation lines unfolded, names as
// written): the first group is per message, each later one per recipient. At most 1000 groups.
using DsnFields = std::vector<std::pair<std::string, std::string>>;
std::vector<DsnFields> ParseDsnFieldGroups(std::string_view text);

}  // namespace poste::mail
