#pragma once
// The inbox tables: SQL and nothing else. Tenancy: every read of messages takes the account ids the caller
// may see (VisibleAccountIds), and every account read goes through an AccountScope; the service decides
// the scope from the caller. Runs on the session of the caller's Database::Write (or Read).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modules/inbox/inbox_types.hpp"

namespace soci {
class session;
}

namespace poste::inbox::store {

// Which accounts a caller may see.
struct AccountScope {
  std::optional<std::int64_t> owner_user_id;  // the caller's own accounts (unset for a site-scoped API key)
  bool all_sites = false;                     // every site's accounts (an admin without a key restriction)
  std::vector<std::int64_t> site_ids;         // else these sites' accounts
};

std::int64_t InsertAccount(soci::session& s, const Account& account, std::int64_t now_ms);
// Any account, whoever owns it (for the sync job); the service checks visibility with InScope.
std::optional<Account> GetAccount(soci::session& s, std::int64_t id);
bool InScope(const Account& account, const AccountScope& scope);
std::vector<Account> ListAccounts(soci::session& s, const AccountScope& scope);
std::vector<std::int64_t> VisibleAccountIds(soci::session& s, const AccountScope& scope);
// Writes every field of `account` that a client may change (name .. mailbox, the sealed password); the
// sync position is reset when `reset_position` (the server or mailbox changed).
void UpdateAccount(soci::session& s, const Account& account, bool reset_position, std::int64_t now_ms);
bool DeleteAccount(soci::session& s, std::int64_t id);
void SetSyncPosition(soci::session& s, std::int64_t id, std::int64_t uidvalidity, std::int64_t last_uid);
void SetSyncResult(soci::session& s, std::int64_t id, const std::string& error, std::int64_t now_ms);
// Every account (for the periodic job's start-up check).
std::vector<std::int64_t> AllAccountIds(soci::session& s);

// Whether the account already holds (uidvalidity, uid).
bool HasMessage(soci::session& s, std::int64_t account_id, std::int64_t uidvalidity, std::int64_t uid);
// After a UIDVALIDITY change: moves a message kept from an earlier validity with the same Message-ID to
// its new (uidvalidity, uid), keeping its read / archived state. False when there is none.
bool Rekey(soci::session& s, std::int64_t account_id, const std::string& message_id, std::int64_t uidvalidity,
           std::int64_t uid);
// Inserts the message with its references; the id. Threads are assigned by AssignThread afterwards.
std::int64_t InsertMessage(soci::session& s, const Message& message, std::int64_t now_ms);
// Puts the message in the thread of the messages it names (In-Reply-To / References), of the messages that
// name it (replies that arrived first) and of those naming the same ancestors, merging those threads into
// one whose id is the smallest message id among them. Returns the thread id.
std::int64_t AssignThread(soci::session& s, std::int64_t account_id, std::int64_t message_row);
void InsertAttachment(soci::session& s, std::int64_t message_row, const Attachment& attachment);
void SetAttachmentCount(soci::session& s, std::int64_t message_row, int count);

// The whole message, bodies included.
std::optional<Message> GetMessage(soci::session& s, const std::vector<std::int64_t>& account_ids, std::int64_t id);
// Lists read summaries: the bodies are not read (only the start of the text body, for the snippet).
MessagePage ListMessages(soci::session& s, const std::vector<std::int64_t>& account_ids, const MessageFilter& filter);
// Oldest first; at most 500.
std::vector<MessageSummary> ThreadMessages(soci::session& s, const std::vector<std::int64_t>& account_ids,
                                           std::int64_t thread_id);
std::vector<Attachment> Attachments(soci::session& s, std::int64_t message_row);
void SetRead(soci::session& s, std::int64_t message_row, bool read);
void SetArchived(soci::session& s, std::int64_t message_row, bool archived);

}  // namespace poste::inbox::store
