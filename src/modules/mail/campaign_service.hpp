#pragma once
// Campaigns of a site: the campaign itself (content, account, parallel connections), its recipients (from a
// CSV upload or the site's contacts), previews and test sends, and its life: schedule, start, pause, resume,
// cancel. The sending itself is CampaignEngine's (campaign_engine.hpp), in jobs.
//
// What the campaign needs of the rest of the mail engine (accounts, limits, suppressions, unsubscribe
// links, templates, single messages) comes in as CampaignHooks, wired by the app, so that this file and
// the engine depend on no other service's class.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/mail/delivery.hpp"
#include "lib/mail/mime.hpp"
#include "lib/mail/recipients_csv.hpp"
#include "lib/mail/template.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/mail/campaign_store.hpp"
#include "modules/mail/campaign_types.hpp"

namespace soci {
class session;
}
namespace poste::db {
class Database;
}
namespace poste::jobs {
class JobQueue;
struct Job;
}  // namespace poste::jobs

namespace poste::mail {

// An account opened for one batch: its transport (one connection, reused) and who the messages are from.
struct CampaignSender {
  std::unique_ptr<Transport> transport;
  Mailbox from;
  // Reserves one send under the account's limits: 0 when reserved, else the milliseconds to wait first.
  // Empty when the account has no limits.
  std::function<std::int64_t()> reserve;
};

struct UnsubscribeLinks {
  std::string url;     // https://.../u/<token> (List-Unsubscribe with One-Click, RFC 8058); "" when none
  std::string mailto;  // mailto:...; "" when none
};

struct CampaignHooks {
  // Throws AppError (404 / 422) when the account does not exist or cannot send.
  std::function<CampaignSender(std::int64_t site_id, std::optional<std::int64_t> account_id)> open_account;
  // The addresses among `emails` that the site's suppression list holds (one query for a batch).
  std::function<std::vector<std::string>(std::int64_t site_id, const std::vector<std::string>& emails)>
      suppressed_among;
  // The links of the recipients of one campaign: the site is read once (a batch), each call makes a
  // recipient's links without I/O. Throws AppError (the site lost its public address...).
  std::function<std::function<UnsubscribeLinks(const std::string& email)>(std::int64_t site_id,
                                                                          std::int64_t campaign_id)>
      unsubscribe_linker;
  // The site's DKIM signing for one batch (keys opened once): each call gives the "DKIM-Signature: ...\r\n"
  // header for a message from `from_email`, or "" when no enabled key aligns with it. Unset: unsigned.
  std::function<std::function<std::string(const std::string& from_email, const std::string& message)>(
      std::int64_t site_id)>
      dkim_signer;
  // The template's parts; AppError 404 when the site has no such template.
  std::function<TemplateSource(std::int64_t site_id, std::int64_t template_id)> load_template;
  // Queues a single message (test sends) through the messages' send path; returns its id.
  std::function<std::int64_t(const audit::Origin& origin, std::int64_t site_id, std::optional<std::int64_t> account_id,
                             const Mailbox& to, const RenderedMessage& content)>
      send_test;
  // The site's contacts (name, email) to add as recipients.
  std::function<std::vector<Mailbox>(std::int64_t site_id)> site_contacts;
  std::function<std::string(std::int64_t site_id)> site_timezone;  // IANA name: local send_at times
  std::function<std::int64_t()> now_ms;                            // default: the system clock
};

struct CampaignPreview {
  std::int64_t recipient_id = 0;
  std::string email;
  RenderedMessage content;
  std::vector<std::string> missing_variables;
  std::optional<std::int64_t> account_id;  // the campaign's (a test send goes through it)
};

struct ImportResult {
  std::int64_t added = 0;  // new recipients (already present addresses are not added twice)
  RecipientsImport import;
};

class CampaignService {
 public:
  CampaignService(db::Database& db, jobs::JobQueue& queue, CampaignHooks hooks);

  Campaign Create(const audit::Origin& origin, std::int64_t site_id, const CampaignInput& input);
  Campaign Get(std::int64_t site_id, std::int64_t id);
  campaign_store::CampaignPage List(std::int64_t site_id, std::optional<std::int64_t> cursor, int limit);
  // Drafts and scheduled campaigns only (409 otherwise).
  Campaign Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, const CampaignInput& input);
  // Not while running (409: pause or cancel it first).
  void Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);

  // Drafts only. The CSV's rows become recipients (422 on "file" when the file cannot be used).
  ImportResult ImportCsv(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, std::string_view csv);
  std::int64_t ImportContacts(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);
  void ClearRecipients(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);
  campaign_store::RecipientPage Recipients(std::int64_t site_id, std::int64_t id, std::optional<RecipientState> state,
                                           std::optional<std::int64_t> after, int limit);

  // The message as `recipient_id` (default: the first recipient; none: empty variables) would get it.
  CampaignPreview Preview(std::int64_t site_id, std::int64_t id, std::optional<std::int64_t> recipient_id);
  // Sends the preview to `to` through the single-message path; the message's id.
  std::int64_t SendTest(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, const Mailbox& to,
                        std::optional<std::int64_t> recipient_id);

  // draft -> scheduled at send_at (a start job then), or running now (send_at none or past). send_at is
  // ISO 8601 with an offset, or a local time in the site's time zone. Checks the content (Mustache), the
  // account and that there are recipients (422 otherwise).
  Campaign Start(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                 const std::optional<std::string>& send_at);
  Campaign Pause(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);
  Campaign Resume(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);
  Campaign Cancel(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);

  // The job of kCampaignStartJobKind: a scheduled campaign whose time came starts.
  void HandleStart(const jobs::Job& job);

  std::int64_t Now() const;
  const CampaignHooks& hooks() const { return hooks_; }
  db::Database& db() { return db_; }

  // Starts a new run of the campaign (c.run + 1, saved by the caller) and queues its parallel batch jobs in
  // the caller's transaction (starting or resuming).
  void QueueLanes(soci::session& s, Campaign& c);

 private:
  Campaign Load(soci::session& s, std::int64_t site_id, std::int64_t id, bool lock);
  Campaign Transition(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, const char* action,
                      const std::function<void(soci::session&, Campaign&)>& change);
  TemplateSource Content(const Campaign& c) const;

  db::Database& db_;
  jobs::JobQueue& queue_;
  CampaignHooks hooks_;
};

// The variables a recipient's message is rendered with: the CSV's columns, plus "email" and "name" when
// the file had no such columns.
nlohmann::json RecipientVariables(const CampaignRecipient& r);

}  // namespace poste::mail
