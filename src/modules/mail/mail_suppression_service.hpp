#pragma once
// A site's suppression list: every send consults it, bounces, complaints and unsubscribes feed it, and the
// site's editors list it, add manual entries and remove entries (those two audited). No HTTP here.
//
// For the send path, bounces and webhooks:
//   suppressions.IsSuppressed(site_id, email)                     // one indexed look-up
//   suppressions.SuppressedAmong(site_id, emails)                 // a campaign batch in a few queries
//   suppressions.Suppress(site_id, email, reason, {source, detail, campaign_id})   // idempotent
//
// Every member blocks (SQL): call it through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "modules/audit/audit_types.hpp"
#include "modules/mail/mail_suppression_types.hpp"

namespace poste::db {
class Database;
}

namespace poste::mail {

// Where a report comes from, stored with the entry.
struct SuppressionReport {
  std::string source;  // "one_click", "page", "dsn", "sendgrid", "ses", "api"...; cut at 64 bytes
  std::string detail;  // e.g. the bounce's diagnostic; cut at kMaxSuppressionDetailBytes
  std::optional<std::int64_t> campaign_id;
  std::optional<std::int64_t> created_by;  // the user who reported it, if a person did
};

enum class SuppressOutcome {
  kAdded,      // the address was not listed
  kUpgraded,   // it was, for a weaker reason: the reason and report were replaced
  kUnchanged,  // it was, for this reason or a stronger one
};

struct SuppressResult {
  Suppression entry;  // as stored now
  SuppressOutcome outcome = SuppressOutcome::kAdded;
};

class MailSuppressionsService {
 public:
  explicit MailSuppressionsService(db::Database& db, std::function<std::int64_t()> now_ms = {});

  // Whether the site never sends to `email` (written any way: it is normalised first). An address that
  // is not one (SuppressionAddress refuses it) is not listed: false.
  bool IsSuppressed(std::int64_t site_id, std::string_view email);
  // Those of `emails` the site lists, each as it was given; for a campaign's batch.
  std::vector<std::string> SuppressedAmong(std::int64_t site_id, const std::vector<std::string>& emails);

  // Lists the address (idempotent; see the ranking of reasons in mail_suppression_types.hpp). 422 (field
  // "email") when `email` is not an address. Not audited: the entry itself says where it came from.
  SuppressResult Suppress(std::int64_t site_id, std::string_view email, SuppressionReason reason,
                          const SuppressionReport& report);

  // An editor's manual entry (reason manual, source "api", the note as detail), audited when it adds
  // the address. 422 on a bad address or note.
  SuppressResult AddManual(const audit::Origin& origin, std::int64_t site_id, std::string_view email,
                           std::string_view note);

  SuppressionPage List(std::int64_t site_id, SuppressionFilter filter);
  // By id (all digits) or by address; 404 when the site does not list it.
  Suppression Get(std::int64_t site_id, std::string_view id_or_email);
  // Removes the entry (audited): the site may send to the address again. 404 when not listed.
  void Remove(const audit::Origin& origin, std::int64_t site_id, std::string_view id_or_email);

 private:
  std::int64_t Now() const;

  db::Database& db_;
  std::function<std::int64_t()> now_ms_;
};

}  // namespace poste::mail
