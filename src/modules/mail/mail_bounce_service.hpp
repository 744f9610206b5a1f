#pragma once
// Bounces and complaints: recording a report (matched to what was sent, counted once), the suppression of
// a hard bounce or a complaint, the email.bounced webhook event; the site's bounce mailbox (one of its
// shared inbox accounts: every message synced into it is read as a DSN); the site's list of bounces.
// No HTTP here.
//
// Every member blocks (SQL): call it through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/mail/mime_parse.hpp"
#include "lib/web/principal.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/mail/mail_bounce_types.hpp"

namespace poste::db {
class Database;
}
namespace poste::jobs {
class JobQueue;
}

namespace poste::mail {

class MailSuppressionsService;

struct BounceOptions {
  // The site of an inbox account the caller can see (nullopt: none, or a personal inbox); for the choice
  // of the bounce mailbox. Wired to the inbox module.
  std::function<std::optional<std::int64_t>(const web::Principal& caller, std::int64_t inbox_account_id)>
      inbox_account_site;
  std::function<std::int64_t()> now_ms;  // epoch ms; default: the system clock
};

class MailBouncesService {
 public:
  MailBouncesService(db::Database& db, jobs::JobQueue& queue, MailSuppressionsService& suppressions,
                     BounceOptions options);

  // Records the report for the site: finds what was sent (only among the site's own messages), suppresses
  // the address for a hard bounce (hard_bounce) or a complaint (complaint), stores the bounce and queues
  // the email.bounced event in the same transaction. nullopt when the report's dedupe key was already
  // recorded (nothing is done again) or its address is not one.
  std::optional<BounceRecord> Record(std::int64_t site_id, const BounceReport& report);

  // The inbox's hook: when the account is a site's bounce mailbox, records each bounce of the message
  // (mail::FindBounces); the number recorded (duplicates and other accounts' messages: 0).
  int ProcessInboxMessage(std::int64_t inbox_account_id, const ParsedMessage& message);

  BouncePage List(std::int64_t site_id, const BounceFilter& filter);

  // The site's bounce mailbox; 404 when it has none.
  BounceMailbox GetMailbox(std::int64_t site_id);
  // 422 (field inbox_account_id) unless the account is one of the site's shared inbox accounts the caller
  // sees. Audited.
  BounceMailbox PutMailbox(const audit::Origin& origin, const web::Principal& caller, std::int64_t site_id,
                           std::int64_t inbox_account_id);
  // 404 when the site has none. Audited.
  void DeleteMailbox(const audit::Origin& origin, std::int64_t site_id);

 private:
  std::int64_t Now() const;

  db::Database& db_;
  jobs::JobQueue& queue_;
  MailSuppressionsService& suppressions_;
  BounceOptions options_;
};

// The reports of a DSN's bounces (unknown classes count as soft), keyed by the DSN's own Message-ID (or,
// without one, a digest of what it reports) and the recipient, so that the same DSN synced twice matches.
std::vector<BounceReport> ReportsOfDsn(const ParsedMessage& message, std::int64_t now_ms);

}  // namespace poste::mail
