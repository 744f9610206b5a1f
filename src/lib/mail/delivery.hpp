#pragma once
// What every mail transport (SMTP, SendGrid, Amazon SES, the local outbox) answers for one message, so the
// sending jobs decide the same way whatever the provider: sent, retry later, or fail now.
#include <functional>
#include <string>
#include <vector>

#include "lib/mail/mime.hpp"

namespace poste::mail {

enum class DeliveryOutcome {
  kSent,       // accepted by the server or provider
  kTemporary,  // retry with backoff: SMTP 4xx, HTTP 429 / 5xx, timeouts, connection refused
  kPermanent,  // fail at once: SMTP 5xx, HTTP 4xx other than 429, invalid address
};

struct DeliveryResult {
  DeliveryOutcome outcome = DeliveryOutcome::kTemporary;
  std::string provider_message_id;  // the provider's id (SendGrid X-Message-Id, SES MessageId, SMTP queue id)
  std::string answer;  // the server's exact answer ("250 2.0.0 Ok: queued as 4F3A1"), or the HTTP status and body
  std::vector<std::string> refused_recipients;  // envelope recipients refused one by one (SMTP RCPT 5xx)
};

// One message to deliver: the structured message (providers with a JSON API need it), its built MIME bytes
// (SMTP, SES raw, the outbox) and the envelope.
struct Delivery {
  const OutgoingMessage* message = nullptr;
  const BuiltMessage* built = nullptr;
  std::string envelope_from;            // ASCII (AsciiAddress); the return path
  std::vector<std::string> recipients;  // EnvelopeRecipients(*message)
  // Called once, right before the point after which the server may have the message: SMTP before the final
  // "." of DATA, an HTTP API before its request, the outbox before its file is renamed into new/. A campaign
  // records the recipient as sent there; false aborts the delivery (kTemporary, nothing sent). With the
  // record and the point of no return this close, a crash can neither lose a message it recorded nor send
  // one twice. Unset: nothing is called.
  std::function<bool()> on_commit;
};

// What Transport::SendAll sends: messages handed out one at a time, each given back with its result.
class DeliverySource {
 public:
  virtual ~DeliverySource() = default;
  // The next message, or nullptr when there is none (any more, or for now: the source stopped). The Delivery
  // stays valid until Done is called for it.
  virtual const Delivery* Next() = 0;
  // What on_commit is to one message, for several at once: called right before the point of no return of
  // each of `group` (SMTP: their final "." on several connections); whether each may go (1) or not (0).
  virtual std::vector<char> Commit(const std::vector<const Delivery*>& group) = 0;
  // The result of a message Next gave; called once for each.
  virtual void Done(const Delivery& delivery, DeliveryResult result) = 0;
};

// A connection to one account's server or API. Blocking: call it from a job or through blocking().
// A transport may keep its connection open between Send calls (SMTP reuses it across a batch); one
// transport is used by one thread at a time.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual DeliveryResult Send(const Delivery& delivery) = 0;
  // Connects and authenticates without sending (POST .../accounts/{id}/test): kSent when the account works,
  // otherwise the outcome and the server's exact answer.
  virtual DeliveryResult Check() = 0;
  // Sends what `source` gives until it gives nothing, with up to `connections` messages in flight on as many
  // connections (SMTP drives them from this one thread). The default sends one at a time with Send, so
  // each Delivery must carry its on_commit. Throws what the source's calls throw.
  virtual void SendAll(DeliverySource& source, int connections) {
    (void)connections;
    while (const Delivery* d = source.Next()) source.Done(*d, Send(*d));
  }
  // How many connections SendAll uses at most (1: one message at a time).
  virtual int MaxConnections() const { return 1; }
};

}  // namespace poste::mail
