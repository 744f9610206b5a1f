#pragma once
// The mail_campaigns and mail_campaign_recipients tables: SQL and nothing else, on the caller's session
// (Database::Write for changes). Every function is scoped by site, directly or through a campaign the caller
// loaded for its site.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lib/mail/recipients_csv.hpp"
#include "modules/mail/campaign_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::campaign_store {

struct CampaignPage {
  std::vector<Campaign> items;  // newest first
  std::optional<std::int64_t> next_cursor;
};
struct RecipientPage {
  std::vector<CampaignRecipient> items;  // in import order
  std::optional<std::int64_t> next_cursor;
};

std::int64_t InsertCampaign(soci::session& s, const Campaign& c);
// lock: FOR UPDATE on PostgreSQL (state changes take it).
std::optional<Campaign> GetCampaign(soci::session& s, std::int64_t site_id, std::int64_t id, bool lock = false);
CampaignPage ListCampaigns(soci::session& s, std::int64_t site_id, std::optional<std::int64_t> cursor, int limit);
// Writes every column but id, site_id, created_by and created_at.
void UpdateCampaign(soci::session& s, const Campaign& c);
void DeleteCampaign(soci::session& s, std::int64_t site_id, std::int64_t id);

RecipientCounts CountRecipients(soci::session& s, std::int64_t site_id, std::int64_t campaign_id);
// The earliest retry time of the pending rows (nullopt when none waits for one).
std::optional<std::int64_t> NextRetryAt(soci::session& s, std::int64_t site_id, std::int64_t campaign_id);
// Adds the recipients not already in the campaign (by address, case-insensitive); returns how many.
std::int64_t InsertRecipients(soci::session& s, std::int64_t site_id, std::int64_t campaign_id,
                              const std::vector<CsvRecipient>& recipients);
void DeleteRecipients(soci::session& s, std::int64_t site_id, std::int64_t campaign_id);
RecipientPage ListRecipients(soci::session& s, std::int64_t site_id, std::int64_t campaign_id,
                             std::optional<RecipientState> state, std::optional<std::int64_t> after, int limit);
std::optional<CampaignRecipient> GetRecipient(soci::session& s, std::int64_t site_id, std::int64_t campaign_id,
                                              std::int64_t id);
std::optional<CampaignRecipient> FirstRecipient(soci::session& s, std::int64_t site_id, std::int64_t campaign_id);

// Claims for a batch job up to `limit` pending rows after `after_id`, in id order (a job claiming again while
// it sends passes the last id it holds). PostgreSQL skips rows other jobs are claiming (SKIP LOCKED);
// SQLite's single writer serialises the claims. Pending rows waiting for a retry are not taken before their
// retry time. A row claimed the first time gets its Message-ID, kept for every try:
// c<campaign>.<recipient>@<domain> (so that a receiver that got it twice can tell, and a bounce finds its
// row); written with the claim, hundreds of rows at once, instead of with each sent mark, on the sending path.
void Claim(soci::session& s, std::int64_t site_id, std::int64_t campaign_id, std::int64_t job_id, int limit,
           std::int64_t now_ms, std::int64_t after_id, const std::string& message_id_domain);
// The rows the job holds after `after_id`, up to `limit`, in id order: those it claimed before (a run of the
// same job that died) and those Claim just took. Read after the claim's transaction, so that SQLite's writer
// is held for the UPDATE only (a campaign's sent marks wait for it).
std::vector<CampaignRecipient> ClaimedRows(soci::session& s, std::int64_t site_id, std::int64_t campaign_id,
                                           std::int64_t job_id, std::int64_t after_id, int limit);
// claimed -> sent (attempts + 1, no error), if the row is still claimed by the job;
// whether it was.
struct SentMark {
  std::int64_t site_id = 0, recipient_id = 0, job_id = 0;
  std::int64_t now_ms = 0;
  bool recorded = false;  // out: the row was still claimed by the job, and is now sent
};
bool MarkSent(soci::session& s, std::int64_t site_id, std::int64_t recipient_id, std::int64_t job_id,
              std::int64_t now_ms);
// The same for several rows, with one prepared statement.
void MarkSent(soci::session& s, const std::vector<SentMark*>& marks);
// MarkSent on a campaign's hot path (a transaction for every few messages): the statement is prepared once
// for SQLite's writer, which stays the same session for the life of the process, instead of being parsed
// again in each transaction; on PostgreSQL (pooled sessions) it is prepared each time, as MarkSent does.
// Used by one thread at a time; destroyed before the database.
class SentMarker {
 public:
  SentMarker();
  ~SentMarker();
  SentMarker(const SentMarker&) = delete;
  SentMarker& operator=(const SentMarker&) = delete;
  void Mark(soci::session& s, const std::vector<SentMark*>& marks);

 private:
  struct Prepared;
  std::unique_ptr<Prepared> prepared_;
};
// The outcome of a try: state, attempts, provider id and the server's answer (claimed_by cleared), if the
// job still holds the row (claimed, or sent by it).
// Recorded for several rows with one prepared statement: each outcome is a row and its retry time.
using RecipientOutcome = std::pair<CampaignRecipient, std::optional<std::int64_t>>;
void RecordOutcomes(soci::session& s, const std::vector<RecipientOutcome>& outcomes, std::int64_t job_id);
// Rows the job still holds go back to pending (the campaign was paused or the job stops early).
void ReleaseClaims(soci::session& s, std::int64_t site_id, std::int64_t campaign_id, std::int64_t job_id);
// Rows of jobs that no longer exist (cancelled or dead) go back to pending: resuming a campaign.
void ReleaseAllClaims(soci::session& s, std::int64_t site_id, std::int64_t campaign_id);

}  // namespace poste::mail::campaign_store
