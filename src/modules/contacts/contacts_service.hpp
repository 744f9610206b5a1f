#pragma once
// The contacts module's domain logic: accepting a visitor's message (spam checks, validation, storage with
// the notification job and the webhook event in the same transaction), the admin inbox (list, read /
// archive, delete, CSV export, each change audited) and the notification job's handler. No HTTP here.
//
// Spam: a filled honeypot or a form sent faster than min_fill_ms after it was shown (started_at) is
// answered exactly like an accepted message and stored nowhere, so a bot learns nothing.
//
// Every member blocks (SQL): call it through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "jobs/job.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/contacts/contacts_types.hpp"

namespace poste::db {
class Database;
}
namespace poste::jobs {
class JobQueue;
}

namespace poste::contacts {

inline constexpr std::string_view kNotifyJobKind = "contact.notify";
inline constexpr std::string_view kNoMailAccount = "no mail account is configured";

// What the notification job hands to the mail module.
struct Notification {
  std::int64_t site_id = 0;
  std::string to;  // the site's contact address
  std::string reply_to;
  std::string subject;
  std::string text;
};

struct ContactsOptions {
  std::int64_t min_fill_ms = 3000;
  int notify_max_attempts = 10;
  // The site's contact address ("" when it has none). Blocking.
  std::function<std::string(std::int64_t site_id)> contact_address;
  // Sends a notification through the mail module; throws on failure. Empty until the mail module exists:
  // the job then records kNoMailAccount on the contact and stays retryable.
  std::function<void(const Notification&)> send_mail;
  std::function<std::int64_t()> now_ms;  // epoch ms; default: the system clock
};

struct ClientInfo {
  std::string ip;
  std::string user_agent;
};

class ContactsService {
 public:
  // ip_key: the HMAC key that hashes client IPs (derived from the master key by the app).
  ContactsService(db::Database& db, jobs::JobQueue& queue, std::string ip_key, ContactsOptions options);

  // Spam is dropped silently (nullopt); a valid message is stored with its notification job and its
  // "contact.received" webhook event, and its id returned. 422 with field errors when invalid.
  std::optional<std::int64_t> Submit(std::int64_t site_id, const Submission& submission, const ClientInfo& client);

  ContactPage List(std::int64_t site_id, const ContactFilter& filter);
  // 404 when there is no such contact on the site.
  Contact Get(std::int64_t site_id, std::int64_t id);
  Contact Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, const ContactPatch& patch);
  void Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);
  // The whole filtered list (newest first, limit and cursor ignored) as CSV; at most kMaxExportRows rows.
  std::string ExportCsv(std::int64_t site_id, ContactFilter filter);
  static constexpr int kMaxExportRows = 100000;

  // The handler of kNotifyJobKind jobs ({site_id, contact_id}).
  void HandleNotify(const jobs::Job& job);

  // The hex HMAC-SHA256 of an IP under the service's key ("" for an empty IP).
  std::string HashIp(std::string_view ip) const;

 private:
  std::int64_t Now() const;

  db::Database& db_;
  jobs::JobQueue& queue_;
  std::string ip_key_;
  ContactsOptions options_;
};

}  // namespace poste::contacts
