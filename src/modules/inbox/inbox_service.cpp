#include "modules/inbox/inbox_service.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <system_error>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/error.hpp"
#include "lib/mail/imap_response.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/inbox/inbox_store.hpp"

namespace poste::inbox {

namespace {

AppError NoAccount() { return AppError::NotFound("No such inbox account."); }
AppError NoMessage() { return AppError::NotFound("No such message."); }

// After the account's deletion has committed: its attachment folder. Logged, never thrown.
void RemoveAccountFiles(const std::filesystem::path& data_dir, std::int64_t account_id) {
  std::error_code ec;
  std::filesystem::remove_all(data_dir / "inbox" / std::to_string(account_id), ec);
  if (ec) spdlog::warn("inbox: could not remove the files of account {}: {}", account_id, ec.message());
}

// Whether a change touches where the sync reads from (then its position on the server no longer holds).
bool MovesServer(const Account& before, const Account& after) {
  return before.host != after.host || before.port != after.port || before.tls != after.tls ||
         before.username != after.username || before.mailbox != after.mailbox;
}

void Apply(const AccountInput& in, Account& a) {
  if (in.name) a.name = *in.name;
  if (in.host) a.host = *in.host;
  if (in.tls) a.tls = *in.tls;
  if (in.port) a.port = *in.port;
  if (in.username) a.username = *in.username;
  if (in.mailbox) a.mailbox = *in.mailbox;
}

}  // namespace

InboxService::InboxService(db::Database& db, jobs::JobQueue& queue, const crypto::SecretBox& secrets,
                           InboxOptions options)
    : db_(db), queue_(queue), secrets_(secrets), options_(std::move(options)) {}

std::int64_t InboxService::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

store::AccountScope InboxService::ScopeOf(const web::Principal& caller) {
  store::AccountScope scope;
  // A key limited to some sites reaches only those sites' shared inboxes, not its owner's own mail.
  if (caller.key_sites.empty()) scope.owner_user_id = caller.user_id;
  if (caller.admin && caller.key_sites.empty()) {
    scope.all_sites = true;
  } else {
    for (auto site : caller.admin ? caller.key_sites : caller.site_ids) {
      if (caller.CanAccessSite(site)) scope.site_ids.push_back(site);
    }
  }
  return scope;
}

Account InboxService::VisibleAccount(const web::Principal& caller, std::int64_t id) {
  auto account = db_.ReadValue([&](soci::session& s) { return store::GetAccount(s, id); });
  if (!account || !store::InScope(*account, ScopeOf(caller))) throw NoAccount();
  return *account;
}

std::vector<std::int64_t> InboxService::VisibleIds(const web::Principal& caller) {
  const auto scope = ScopeOf(caller);
  return db_.ReadValue([&](soci::session& s) { return store::VisibleAccountIds(s, scope); });
}

std::string InboxService::OpenPassword(const Account& account) const {
  if (account.sealed_password.empty()) return {};
  return secrets_.Open(account.sealed_password, PasswordBinding(account.id));
}

std::string InboxService::PasswordBinding(std::int64_t account_id) {
  return "inbox-account:" + std::to_string(account_id) + ":password";
}

std::string InboxService::SealPassword(std::int64_t account_id, const std::string& password) const {
  return secrets_.Seal(password, PasswordBinding(account_id));
}

void InboxService::QueueSync(soci::session& s, std::int64_t account_id, const std::string& key, std::int64_t run_at) {
  jobs::EnqueueOptions options;
  options.run_at_ms = run_at;
  options.max_attempts = 3;
  options.idempotency_key = key;
  queue_.EnqueueIn(s, kSyncJobKind, nlohmann::json{{"account_id", account_id}}.dump(), options);
}

std::vector<Account> InboxService::ListAccounts(const web::Principal& caller) {
  const auto scope = ScopeOf(caller);
  return db_.ReadValue([&](soci::session& s) { return store::ListAccounts(s, scope); });
}

Account InboxService::GetAccount(const web::Principal& caller, std::int64_t id) { return VisibleAccount(caller, id); }

Account InboxService::CreateAccount(const audit::Origin& origin, const web::Principal& caller,
                                    const AccountInput& input) {
  auto errors = Validate(input, true);
  if (input.site_id && !caller.CanAccessSite(*input.site_id)) {
    errors.push_back({"site_id", "not_found", "no such site"});
  }
  if (!input.site_id && !caller.key_sites.empty()) {
    // Such a key could not see a personal account afterwards: it adds its sites' inboxes only.
    errors.push_back({"site_id", "required", "an API key limited to sites can only add a site's inbox"});
  }
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  Account a;
  if (input.site_id) {
    a.site_id = input.site_id;
  } else {
    a.owner_user_id = caller.user_id;
  }
  a.tls = "starttls";
  Apply(input, a);
  if (a.port == 0) a.port = a.tls == "implicit" ? 993 : 143;
  const auto now = Now();
  const auto id = db_.WriteValue([&](soci::session& s) {
    std::int64_t id = 0;
    try {
      id = store::InsertAccount(s, a, now);
    } catch (const std::exception&) {
      // The site was deleted between the check and the insert (its foreign key fails).
      throw AppError::Validation({{"site_id", "not_found", "no such site"}});
    }
    a.id = id;
    a.sealed_password = SealPassword(id, *input.password);
    store::UpdateAccount(s, a, false, now);
    audit::Record(s, audit::EntryFrom(origin, "inbox_account.create", "inbox_account", std::to_string(id), a.site_id,
                                      {{"name", a.name}, {"host", a.host}, {"username", a.username}}));
    QueueSync(s, id, "inbox.sync:" + std::to_string(id) + ":first", now);
    return id;
  });
  queue_.NotifyEnqueued();
  return *db_.ReadValue([&](soci::session& s) { return store::GetAccount(s, id); });
}

Account InboxService::UpdateAccount(const audit::Origin& origin, const web::Principal& caller, std::int64_t id,
                                    const AccountInput& input) {
  const auto before = VisibleAccount(caller, id);
  auto errors = Validate(input, false);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  Account after = before;
  Apply(input, after);
  if (input.password) after.sealed_password = SealPassword(id, *input.password);
  const bool moved = MovesServer(before, after);
  const auto now = Now();
  db_.Write([&](soci::session& s) {
    store::UpdateAccount(s, after, moved, now);
    nlohmann::json changes = nlohmann::json::object();
    for (const auto& [field, from, to] :
         {std::tuple{"name", before.name, after.name}, std::tuple{"host", before.host, after.host},
          std::tuple{"tls", before.tls, after.tls}, std::tuple{"username", before.username, after.username},
          std::tuple{"mailbox", before.mailbox, after.mailbox}}) {
      if (from != to) changes[field] = {{"from", from}, {"to", to}};
    }
    if (before.port != after.port) changes["port"] = {{"from", before.port}, {"to", after.port}};
    if (input.password) changes["password"] = "changed";
    if (!changes.empty()) {
      audit::Record(s, audit::EntryFrom(origin, "inbox_account.update", "inbox_account", std::to_string(id),
                                        after.site_id, changes));
    }
  });
  return *db_.ReadValue([&](soci::session& s) { return store::GetAccount(s, id); });
}

void InboxService::DeleteAccount(const audit::Origin& origin, const web::Principal& caller, std::int64_t id) {
  const auto account = VisibleAccount(caller, id);
  db_.Write([&](soci::session& s) {
    if (!store::DeleteAccount(s, id)) throw NoAccount();
    audit::Record(s, audit::EntryFrom(origin, "inbox_account.delete", "inbox_account", std::to_string(id),
                                      account.site_id, {{"name", account.name}}));
  });
  RemoveAccountFiles(options_.data_dir, id);
}

void InboxService::ForgetDeletedAccounts() {
  // The folders are listed before the accounts are read: a folder listed whose account is not there any more
  // belongs to a deleted account (ids are never reused), and one made after the listing is not looked at.
  const auto root = options_.data_dir / "inbox";
  std::vector<std::int64_t> listed;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.empty() || name.size() > 18 || name.find_first_not_of("0123456789") != std::string::npos) continue;
    listed.push_back(std::stoll(name));
  }
  if (ec && ec != std::errc::no_such_file_or_directory) {
    spdlog::warn("inbox: could not list {} to remove the files of deleted accounts: {}", root.string(), ec.message());
  }
  if (listed.empty()) return;
  std::vector<std::int64_t> existing;
  try {
    existing = db_.ReadValue([](soci::session& s) { return store::AllAccountIds(s); });
  } catch (const std::exception& e) {
    spdlog::error("inbox: could not read the accounts to remove the files of deleted ones: {}", e.what());
    return;
  }
  for (const auto id : listed) {
    if (std::find(existing.begin(), existing.end(), id) == existing.end()) RemoveAccountFiles(options_.data_dir, id);
  }
}

SyncResult InboxService::SyncNow(const web::Principal& caller, std::int64_t id) {
  VisibleAccount(caller, id);
  try {
    auto result = Sync(id);
    if (!result) throw NoAccount();
    return *result;
  } catch (const mail::imap::ImapError& e) {
    SyncResult failed;
    failed.ok = false;
    failed.error = e.what();
    return failed;
  }
}

MessagePage InboxService::ListMessages(const web::Principal& caller, const MessageFilter& filter) {
  const auto ids = VisibleIds(caller);
  return db_.ReadValue([&](soci::session& s) { return store::ListMessages(s, ids, filter); });
}

MessageView InboxService::GetMessage(const web::Principal& caller, std::int64_t id) {
  const auto ids = VisibleIds(caller);
  return db_.ReadValue([&](soci::session& s) {
    auto message = store::GetMessage(s, ids, id);
    if (!message) throw NoMessage();
    return MessageView{*message, store::Attachments(s, id)};
  });
}

std::vector<MessageSummary> InboxService::Thread(const web::Principal& caller, std::int64_t thread_id) {
  const auto ids = VisibleIds(caller);
  auto messages = db_.ReadValue([&](soci::session& s) { return store::ThreadMessages(s, ids, thread_id); });
  if (messages.empty()) throw AppError::NotFound("No such thread.");
  return messages;
}

bool InboxService::MarkRead(const web::Principal& caller, std::int64_t id) {
  const auto view = GetMessage(caller, id);
  db_.Write([&](soci::session& s) { store::SetRead(s, id, true); });
  const auto account = db_.ReadValue([&](soci::session& s) { return store::GetAccount(s, view.message.account_id); });
  if (!account) return false;
  try {
    return SetSeenOnServer(*account, view.message);
  } catch (const std::exception& e) {
    // The server is down or refuses for now: a job tries again with backoff.
    spdlog::info("inbox: could not set \\Seen on message {} of account {} now: {}", id, account->id, e.what());
    const auto now = Now();
    db_.Write([&](soci::session& s) {
      jobs::EnqueueOptions options;
      options.max_attempts = 8;
      options.idempotency_key = "inbox.seen:" + std::to_string(id) + ":" + std::to_string(now);
      queue_.EnqueueIn(s, kSeenJobKind, nlohmann::json{{"message_id", id}}.dump(), options);
    });
    queue_.NotifyEnqueued();
    return false;
  }
}

void InboxService::Archive(const web::Principal& caller, std::int64_t id, bool archived) {
  GetMessage(caller, id);
  db_.Write([&](soci::session& s) { store::SetArchived(s, id, archived); });
}

AttachmentFile InboxService::GetAttachment(const web::Principal& caller, std::int64_t id, int position) {
  const auto view = GetMessage(caller, id);
  for (const auto& a : view.attachments) {
    if (a.position != position) continue;
    if (a.path.empty()) throw AppError::NotFound("The attachment was too large to keep.");
    return {a, options_.data_dir / a.path};
  }
  throw AppError::NotFound("No such attachment.");
}

ReplyDraft InboxService::Reply(const web::Principal& caller, std::int64_t id, bool reply_all) {
  const auto view = GetMessage(caller, id);
  const auto account = db_.ReadValue([&](soci::session& s) { return store::GetAccount(s, view.message.account_id); });
  std::vector<std::string> own;
  if (account && account->username.find('@') != std::string::npos) own.push_back(account->username);
  return BuildReply(view.message, reply_all, own);
}

}  // namespace poste::inbox
