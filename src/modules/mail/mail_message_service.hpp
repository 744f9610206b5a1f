#pragma once
// Sending single messages: Enqueue validates a request (header injection and every address refused with
// field errors), picks the account (given, else the site's default, else its implicit outbox), fixes the
// Message-ID, stores the message and queues a "mail.send" job (at send_at when scheduled) in one
// transaction. The job (HandleSend) waits for the account's limits, builds the MIME, sends, and records
// queued -> sending -> sent | failed, with attempts, the provider's message id and the server's exact last
// answer. Temporary failures retry with backoff up to max_attempts; permanent ones fail at once. Cancel
// works while queued; a cancelled message is never sent (the job re-reads the state under the row lock
// before sending).
//
// A try cut short by a crash (the job's lease expires while the message is "sending") is sent again, with
// the same Message-ID: delivery is at least once.
//
// Enqueue is the entry point for the campaign engine and template rendering too.
// Every member blocks (SQL, sockets, files): call it through co_await blocking(...) or from a job.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/job.hpp"
#include "lib/mail/mime.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/mail/mail_message_types.hpp"

namespace soci {
class session;
}
namespace poste::db {
class Database;
}
namespace poste::jobs {
class JobQueue;
}

namespace poste::mail {

class MailAccountsService;

struct MessagesOptions {
  int max_attempts = 6;  // sends of one message before a temporary failure is final
  // The site's IANA time zone, for a send_at without an offset; default "UTC".
  std::function<std::string(std::int64_t site_id)> site_timezone;
  // A media item of the site as an attachment (path, filename, content type); nullopt when the site has no
  // such item.
  std::function<std::optional<Attachment>(std::int64_t site_id, std::int64_t media_id)> media_attachment;
  std::function<std::int64_t()> now_ms;  // epoch ms; default: the system clock
  std::function<double()> jitter;        // in [-1, 1] for the retry backoff; default: random
  // The DKIM-Signature header of a built message of the site From `from_email`, put before its bytes; "" sends it
  // unsigned. Unset: nothing is signed. (Wired to MailDkimService::SignatureFor.)
  std::function<std::string(std::int64_t site_id, const std::string& from_email, const std::string& message)>
      dkim_signature;
  // How long a try may keep a message "sending" before it is taken for dead (its worker stopped, its last
  // job attempt failed): then the message is retried or, after max_attempts, failed. Longer than the
  // slowest transport's timeouts. Default (0): 15 minutes.
  std::int64_t sending_lease_ms = 0;
  // Tests only: called with "before_send" (after the claim) and "after_send" (before the outcome is
  // written); throwing there simulates a worker that stops at that point.
  std::function<void(std::string_view stage)> fault;
};

struct SendOptions {
  std::optional<std::string> idempotency_key;  // a repeat returns the first message of the site with this key
  std::optional<std::int64_t> created_by;      // the user who asked
  std::optional<std::string> send_at;          // ISO 8601; without an offset, in the site's time zone
};

struct Enqueued {
  Message message;
  bool created = true;  // false: an earlier message with the same idempotency key
};

class MailMessagesService {
 public:
  MailMessagesService(db::Database& db, jobs::JobQueue& queue, MailAccountsService& accounts,
                      MessagesOptions options = {});

  // 422 with field errors (recipients, subject, headers, bodies, attachments, account_id, send_at).
  Enqueued Enqueue(const audit::Origin& origin, std::int64_t site_id, MessageRequest request,
                   const SendOptions& options = {});
  // 404 when the site has no such message.
  Message Get(std::int64_t site_id, std::int64_t id);
  MessagePage List(std::int64_t site_id, std::optional<MessageState> state, int limit,
                   std::optional<std::int64_t> cursor);
  MessagePage List(std::int64_t site_id, const MessageFilter& filter);
  // 409 unless queued (scheduled or awaiting a retry).
  Message Cancel(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);

  // The kSendJobKind handler: {"site_id", "message_id"} sends (one try); {..., "watch_attempt": n} is the
  // watch of try n, queued with the claim: a message still sending from that try after the lease is put
  // back to queued (or failed after max_attempts). A try records the message as sent right before the
  // point of no return (Delivery::on_commit), so a failure after it never sends the message again.
  void HandleSend(const jobs::Job& job);

 private:
  std::int64_t Now() const;
  OutgoingMessage Outgoing(const Message& message, const Mailbox& from, std::vector<FieldError>* errors) const;
  void QueueJob(soci::session& s, const Message& message, std::int64_t run_at_ms, const std::string& key_suffix);
  void QueueWatch(soci::session& s, const Message& message, std::int64_t run_at_ms, const std::string& key_suffix);
  std::int64_t SendingLease() const;
  // True when try `attempt` had left the message sending past its lease and it was requeued or failed.
  bool Recover(std::int64_t site_id, std::int64_t id, int attempt);

  db::Database& db_;
  jobs::JobQueue& queue_;
  MailAccountsService& accounts_;
  MessagesOptions options_;
};

}  // namespace poste::mail
