#pragma once
// The inbox's domain logic: IMAP accounts of a user (a personal inbox) or of a site (a shared inbox its
// admins and editors see), incremental sync by UIDVALIDITY / UID (now, or as a periodic job), threads,
// read / archive, attachments, and what a reply needs. No HTTP here.
//
// Tenancy: a caller sees their own accounts and the accounts of the sites they can access; a personal API
// key limited to some sites sees only those sites' accounts. Everything else answers 404.
//
// Every member blocks (SQL, IMAP, files): call it through co_await blocking(...).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job.hpp"
#include "lib/mail/dsn.hpp"
#include "lib/mail/mime_parse.hpp"
#include "lib/net/target_policy.hpp"
#include "lib/web/principal.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/inbox/inbox_reply.hpp"
#include "modules/inbox/inbox_store.hpp"
#include "modules/inbox/inbox_types.hpp"

namespace soci {
class session;
}
namespace poste::db {
class Database;
}
namespace poste::jobs {
class JobQueue;
}
namespace poste::crypto {
class SecretBox;
}

namespace poste::inbox {

inline constexpr std::string_view kSyncJobKind = "inbox.sync";
inline constexpr std::string_view kSeenJobKind = "inbox.seen";

struct InboxOptions {
  std::filesystem::path data_dir;          // attachments go under data_dir / "inbox"
  std::int64_t sync_interval_ms = 300000;  // between periodic syncs of an account
  std::size_t max_message_bytes = 50u << 20;
  std::size_t max_attachment_bytes = 25u << 20;  // larger attachments are listed, not kept
  std::size_t max_messages_per_sync = 500;       // the rest waits for the next sync
  net::TargetPolicy policy;                      // which addresses IMAP hosts may resolve to
  std::chrono::milliseconds imap_timeout{30000};
  std::string tls_ca_file;  // mail.tls_ca_file: a private CA for IMAP servers' certificates ("": the system's)
  // Called after each message is stored by a sync (outside the transaction), e.g. to read bounces.
  std::function<void(const Account&, std::int64_t message_row, const mail::ParsedMessage&)> on_message;
  std::function<std::int64_t()> now_ms;  // epoch ms; default: the system clock
};

struct SyncResult {
  bool ok = true;
  std::string error;         // when not ok: why, with the server's answer
  std::int64_t fetched = 0;  // messages stored
  bool resynced = false;     // the UIDVALIDITY changed: synced from UID 1 again
  bool more = false;         // more new messages than max_messages_per_sync: the rest comes next time
  std::int64_t uidvalidity = 0;
  std::int64_t last_uid = 0;
};

struct MessageView {
  Message message;
  std::vector<Attachment> attachments;
};

struct AttachmentFile {
  Attachment attachment;
  std::filesystem::path path;  // absolute
};

class InboxService {
 public:
  InboxService(db::Database& db, jobs::JobQueue& queue, const crypto::SecretBox& secrets, InboxOptions options);

  std::vector<Account> ListAccounts(const web::Principal& caller);
  Account GetAccount(const web::Principal& caller, std::int64_t id);
  // 422 with field errors; a site_id the caller cannot access is a field error too. Queues the account's
  // periodic sync.
  Account CreateAccount(const audit::Origin& origin, const web::Principal& caller, const AccountInput& input);
  // A changed host, port, TLS mode, username or mailbox starts the sync over (UIDVALIDITY 0).
  Account UpdateAccount(const audit::Origin& origin, const web::Principal& caller, std::int64_t id,
                        const AccountInput& input);
  // Removes the account, its messages and their attachment files.
  void DeleteAccount(const audit::Origin& origin, const web::Principal& caller, std::int64_t id);
  // After a site's or a user's deletion has committed (their accounts went with them by the foreign keys'
  // cascade, their ids unknown here): removes the attachment folders data_dir/inbox/<account id>/ of the
  // accounts that no longer exist. Failures are logged, never thrown: the deletion stands either way.
  void ForgetDeletedAccounts();
  // Syncs now. A failure of the server is not an error of the call: the result says what the server
  // answered (and it is recorded as the account's last_error).
  SyncResult SyncNow(const web::Principal& caller, std::int64_t id);

  MessagePage ListMessages(const web::Principal& caller, const MessageFilter& filter);
  MessageView GetMessage(const web::Principal& caller, std::int64_t id);
  // Oldest first; 404 when the caller sees no message of it.
  std::vector<MessageSummary> Thread(const web::Principal& caller, std::int64_t thread_id);
  // Marks the message read here and \Seen on the server. The local change always holds; whether the
  // server took it is returned. When the server cannot be reached, a kSeenJobKind job retries with backoff.
  bool MarkRead(const web::Principal& caller, std::int64_t id);
  void Archive(const web::Principal& caller, std::int64_t id, bool archived);
  AttachmentFile GetAttachment(const web::Principal& caller, std::int64_t id, int position);
  // What replying to the message needs (for the send path).
  ReplyDraft Reply(const web::Principal& caller, std::int64_t id, bool reply_all);

  // The sync itself (no caller: the job's and SyncNow's). Throws mail::imap::ImapError when the server
  // fails; records the outcome on the account either way. nullopt when the account is gone.
  std::optional<SyncResult> Sync(std::int64_t account_id);
  // The handler of kSyncJobKind jobs ({account_id}): syncs, then queues the next sync after the interval,
  // whether this one succeeded or not (the error stays on the account). Stops when the account is gone.
  void HandleSyncJob(const jobs::Job& job);
  // The handler of kSeenJobKind jobs ({message_id}): sets \Seen on the server; throws to retry.
  void HandleSeenJob(const jobs::Job& job);

  // The bounces a stored message reports (DSN or qmail text), read from its text and kept attachments;
  // for the bounce mailbox's processing. Empty for a message that is not a bounce or does not exist.
  std::vector<mail::Bounce> BouncesOf(std::int64_t message_row);

  // What an account's password is sealed under (also `poste keys rotate`).
  static std::string PasswordBinding(std::int64_t account_id);

 private:
  std::int64_t Now() const;
  static store::AccountScope ScopeOf(const web::Principal& caller);
  Account VisibleAccount(const web::Principal& caller, std::int64_t id);
  std::vector<std::int64_t> VisibleIds(const web::Principal& caller);
  std::string OpenPassword(const Account& account) const;
  std::string SealPassword(std::int64_t account_id, const std::string& password) const;
  void QueueSync(soci::session& s, std::int64_t account_id, const std::string& key, std::int64_t run_at);
  std::int64_t StoreMessage(const Account& account, std::int64_t uidvalidity, std::uint32_t uid,
                            const mail::ParsedMessage& parsed, std::size_t size, bool truncated, bool seen);
  // False when there is nothing to mark (the mailbox was renumbered); throws when the server fails.
  bool SetSeenOnServer(const Account& account, const Message& message);

  db::Database& db_;
  jobs::JobQueue& queue_;
  const crypto::SecretBox& secrets_;
  InboxOptions options_;
};

}  // namespace poste::inbox
