// The sync half of InboxService: IMAP to the inbox tables, the periodic job, \Seen on the server, bounces.
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>

#include "db/database.hpp"
#include "db/dialect.hpp"
#include "jobs/job_queue.hpp"
#include "lib/error.hpp"
#include "lib/mail/entities.hpp"
#include "lib/mail/imap_client.hpp"
#include "lib/validate/text.hpp"
#include "modules/inbox/inbox_service.hpp"
#include "modules/inbox/inbox_store.hpp"

namespace poste::inbox {

namespace {

// Text as stored: valid UTF-8 (PostgreSQL refuses anything else) without NUL bytes.
// Valid UTF-8 without NUL, at most max_bytes, cut between characters (PostgreSQL refuses invalid UTF-8: a
// value cut inside a character would stop the account's sync on that message for good).
std::string Stored(std::string_view text, std::size_t max_bytes = std::string::npos) {
  std::string out = mail::SanitizeUtf8(text);
  out.erase(std::remove(out.begin(), out.end(), '\0'), out.end());
  return std::string(validate::Utf8Prefix(out, max_bytes));
}

Address ToAddress(const mail::Mailbox& m) { return {Stored(m.name), Stored(m.email)}; }

std::vector<Address> ToAddresses(const std::vector<mail::Mailbox>& list) {
  std::vector<Address> out;
  for (const auto& m : list) out.push_back(ToAddress(m));
  return out;
}

mail::imap::Tls TlsOf(const std::string& name) {
  if (name == "none") return mail::imap::Tls::kNone;
  if (name == "implicit") return mail::imap::Tls::kImplicit;
  return mail::imap::Tls::kStartTls;
}

bool HasFlag(const std::vector<std::string>& flags, std::string_view flag) {
  return std::any_of(flags.begin(), flags.end(), [&](const std::string& f) {
    return f.size() == flag.size() && std::equal(f.begin(), f.end(), flag.begin(),
                                                 [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  });
}

void WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("could not write an attachment file");
}

std::string ReadFile(const std::filesystem::path& path, std::size_t max) {
  std::ifstream in(path, std::ios::binary);
  std::string out;
  out.resize(max);
  in.read(out.data(), static_cast<std::streamsize>(max));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

}  // namespace

std::int64_t InboxService::StoreMessage(const Account& account, std::int64_t uidvalidity, std::uint32_t uid,
                                        const mail::ParsedMessage& parsed, std::size_t size, bool truncated,
                                        bool seen) {
  Message m;
  m.account_id = account.id;
  m.uidvalidity = uidvalidity;
  m.uid = uid;
  m.message_id = Stored(parsed.message_id, 998);
  m.in_reply_to = Stored(parsed.in_reply_to, 998);
  for (const auto& ref : parsed.references) {
    if (!ref.empty() && ref.size() <= 998) m.references.push_back(Stored(ref));
  }
  m.subject = Stored(parsed.subject);
  if (parsed.from) m.from = ToAddress(*parsed.from);
  m.to = ToAddresses(parsed.to);
  m.cc = ToAddresses(parsed.cc);
  m.reply_to = ToAddresses(parsed.reply_to);
  if (parsed.date) m.sent_at = *parsed.date * 1000;
  m.text = Stored(parsed.text);
  m.html = Stored(parsed.html);
  m.size = static_cast<std::int64_t>(size);
  m.truncated = truncated || parsed.truncated;
  m.read = seen;
  const auto now = Now();
  return db_.WriteValue([&](soci::session& s) -> std::int64_t {
    // Safe to run twice: a message already stored, or kept from before a UIDVALIDITY change, is not added.
    if (store::HasMessage(s, account.id, uidvalidity, uid) ||
        store::Rekey(s, account.id, m.message_id, uidvalidity, uid)) {
      store::SetSyncPosition(s, account.id, uidvalidity, uid);
      return 0;
    }
    const auto row = store::InsertMessage(s, m, now);
    store::AssignThread(s, account.id, row);
    int position = 0;
    const auto dir = std::filesystem::path("inbox") / std::to_string(account.id) / std::to_string(row);
    for (const auto& part : parsed.attachments) {
      Attachment a;
      a.position = position++;
      a.filename = Stored(part.filename, 255);
      a.content_type = Stored(part.content_type, 255);
      a.content_id = Stored(part.content_id, 255);
      a.inline_part = part.inline_part;
      a.size = static_cast<std::int64_t>(part.bytes.size());
      if (part.bytes.size() <= options_.max_attachment_bytes) {
        // The position keeps names unique; the stored name is only ever built here, never from a request.
        a.path = (dir / (std::to_string(a.position) + "-" + SafeFileName(part.filename))).string();
        WriteFile(options_.data_dir / a.path, part.bytes);
      }
      store::InsertAttachment(s, row, a);
    }
    if (position > 0) store::SetAttachmentCount(s, row, position);
    store::SetSyncPosition(s, account.id, uidvalidity, uid);
    return row;
  });
}

std::optional<SyncResult> InboxService::Sync(std::int64_t account_id) {
  auto account = db_.ReadValue([&](soci::session& s) { return store::GetAccount(s, account_id); });
  if (!account) return std::nullopt;
  SyncResult result;
  try {
    mail::imap::ClientConfig config;
    config.host = account->host;
    config.port = account->port;
    config.tls = TlsOf(account->tls);
    config.username = account->username;
    config.password = OpenPassword(*account);
    config.policy = options_.policy;
    config.read_timeout = options_.imap_timeout;
    config.ca_file = options_.tls_ca_file;
    config.limits.max_literal = options_.max_message_bytes;
    mail::imap::Client client(config);
    client.Connect();
    const auto info = client.Examine(account->mailbox);
    result.uidvalidity = info.uidvalidity;
    std::uint32_t first = 1;
    if (account->uidvalidity != static_cast<std::int64_t>(info.uidvalidity)) {
      // First sync, or the server renumbered the mailbox: every UID is new again. Messages kept from the
      // old numbering are matched by Message-ID as they come back (Rekey), so their state survives.
      result.resynced = account->uidvalidity != 0;
      db_.Write([&](soci::session& s) { store::SetSyncPosition(s, account_id, info.uidvalidity, 0); });
      account->last_uid = 0;
    } else {
      first = static_cast<std::uint32_t>(std::min<std::int64_t>(account->last_uid + 1, 0xFFFFFFFF));
    }
    result.last_uid = account->last_uid;
    auto uids = client.UidSearchFrom(first);
    if (uids.size() > options_.max_messages_per_sync) {
      uids.resize(options_.max_messages_per_sync);
      result.more = true;
    }
    mail::ParseLimits limits;
    limits.max_bytes = options_.max_message_bytes;
    for (const auto uid : uids) {
      auto fetched = client.Fetch(uid);
      if (!fetched) continue;  // expunged meanwhile
      bool truncated = false;
      std::string bytes;
      if (fetched->bytes) {
        bytes = std::move(*fetched->bytes);
      } else {
        truncated = true;  // too large: its headers only
        auto header = client.FetchHeader(uid);
        if (header && header->bytes) bytes = std::move(*header->bytes);
      }
      const auto parsed = mail::ParseMessage(bytes, limits);
      std::int64_t row = 0;
      try {
        row = StoreMessage(*account, info.uidvalidity, uid, parsed, fetched->size, truncated,
                           HasFlag(fetched->flags, "\\Seen"));
      } catch (const std::exception& e) {
        if (!db::IsUniqueViolation(e)) throw;  // else a concurrent sync stored it first
      }
      result.last_uid = uid;
      if (row == 0) continue;
      ++result.fetched;
      if (options_.on_message) {
        try {
          options_.on_message(*account, row, parsed);
        } catch (const std::exception& e) {
          spdlog::warn("inbox: processing message {} of account {} failed: {}", row, account_id, e.what());
        }
      }
    }
    client.Logout();
  } catch (const std::exception& e) {
    const auto now = Now();
    db_.Write([&](soci::session& s) { store::SetSyncResult(s, account_id, e.what(), now); });
    throw;
  }
  const auto now = Now();
  db_.Write([&](soci::session& s) { store::SetSyncResult(s, account_id, "", now); });
  return result;
}

void InboxService::HandleSyncJob(const jobs::Job& job) {
  const auto payload = nlohmann::json::parse(job.payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("account_id") || !payload["account_id"].is_number_integer()) {
    throw jobs::PermanentError("inbox.sync: malformed payload");
  }
  const std::int64_t account_id = payload["account_id"];
  bool exists = true;
  try {
    exists = Sync(account_id).has_value();
  } catch (const std::exception& e) {
    // Whatever failed (the server, a key that no longer opens the password), the next sync is still queued:
    // the error is on the account for its owner to see.
    spdlog::info("inbox: sync of account {} failed: {}", account_id, e.what());
  }
  if (!exists) return;  // deleted: the chain ends
  const auto next = Now() + options_.sync_interval_ms;
  // Keyed by this job: a job run twice (a lease that expired) queues its successor once.
  db_.Write([&](soci::session& s) {
    if (!store::GetAccount(s, account_id)) return;
    QueueSync(s, account_id, "inbox.sync:" + std::to_string(account_id) + ":after:" + std::to_string(job.id), next);
  });
}

bool InboxService::SetSeenOnServer(const Account& account, const Message& message) {
  if (message.uidvalidity != account.uidvalidity || message.uid <= 0) return false;
  mail::imap::ClientConfig config;
  config.host = account.host;
  config.port = account.port;
  config.tls = TlsOf(account.tls);
  config.username = account.username;
  config.password = OpenPassword(account);
  config.policy = options_.policy;
  config.read_timeout = options_.imap_timeout;
  config.ca_file = options_.tls_ca_file;
  mail::imap::Client client(config);
  client.Connect();
  const auto info = client.Select(account.mailbox);
  if (static_cast<std::int64_t>(info.uidvalidity) != message.uidvalidity) return false;
  client.AddFlags(static_cast<std::uint32_t>(message.uid), {"\\Seen"});
  client.Logout();
  return true;
}

void InboxService::HandleSeenJob(const jobs::Job& job) {
  const auto payload = nlohmann::json::parse(job.payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("message_id") || !payload["message_id"].is_number_integer()) {
    throw jobs::PermanentError("inbox.seen: malformed payload");
  }
  const std::int64_t id = payload["message_id"];
  auto found = db_.ReadValue([&](soci::session& s) -> std::optional<std::pair<Message, Account>> {
    auto message = store::GetMessage(s, store::AllAccountIds(s), id);
    if (!message) return std::nullopt;
    auto account = store::GetAccount(s, message->account_id);
    if (!account) return std::nullopt;
    return std::make_pair(*message, *account);
  });
  // Gone, or renumbered by the server since: nothing left to mark. A server error retries with backoff.
  if (!found) return;
  SetSeenOnServer(found->second, found->first);
}

std::vector<mail::Bounce> InboxService::BouncesOf(std::int64_t message_row) {
  auto found = db_.ReadValue([&](soci::session& s) -> std::optional<MessageView> {
    const auto ids = store::AllAccountIds(s);
    auto message = store::GetMessage(s, ids, message_row);
    if (!message) return std::nullopt;
    return MessageView{*message, store::Attachments(s, message_row)};
  });
  if (!found) return {};
  mail::ParsedMessage parsed;
  parsed.text = found->message.text;
  parsed.message_id = found->message.message_id;
  for (const auto& a : found->attachments) {
    if (a.path.empty()) continue;
    mail::ParsedAttachment part;
    part.content_type = a.content_type;
    part.filename = a.filename;
    part.bytes = ReadFile(options_.data_dir / a.path, options_.max_attachment_bytes);
    parsed.attachments.push_back(std::move(part));
  }
  return mail::FindBounces(parsed);
}

}  // namespace poste::inbox
