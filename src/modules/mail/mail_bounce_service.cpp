#include "modules/mail/mail_bounce_service.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "jobs/job_queue.hpp"
#include "lib/crypto/encoding.hpp"
#include "lib/crypto/hash.hpp"
#include "lib/error.hpp"
#include "lib/mail/dsn.hpp"
#include "lib/validate/ascii.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/mail/mail_bounce_store.hpp"
#include "modules/mail/mail_suppression_service.hpp"
#include "modules/webhooks/webhook_events.hpp"

namespace poste::mail {

namespace {

constexpr std::int64_t kMaxPlausibleMs = 32503680000000;  // year 3000

}  // namespace

std::vector<BounceReport> ReportsOfDsn(const ParsedMessage& message, std::int64_t now_ms) {
  std::vector<BounceReport> out;
  // The DSN's own Message-ID names it however often it is synced; a DSN without one is named by what it says.
  std::string identity = message.message_id;
  if (identity.empty()) {
    identity =
        "digest:" + crypto::HexEncode(crypto::Sha256(message.subject + "\n" + std::to_string(message.date.value_or(0)) +
                                                     "\n" + message.text.substr(0, 4096)));
  }
  std::int64_t occurred = now_ms;
  if (message.date && *message.date > 0 && *message.date * 1000 < kMaxPlausibleMs) occurred = *message.date * 1000;
  for (const auto& b : FindBounces(message)) {
    BounceReport r;
    r.email = b.recipient;
    r.kind = b.kind == BounceClass::kHard ? BounceKind::kHard : BounceKind::kSoft;
    r.source = "dsn";
    r.status = b.status;
    r.detail = b.diagnostic;
    r.header_message_id = b.original_message_id;
    r.dedupe_key = "dsn:" + crypto::HexEncode(crypto::Sha256(identity + "\n" + validate::ascii::ToLower(b.recipient)));
    r.occurred_at = occurred;
    out.push_back(std::move(r));
  }
  return out;
}

MailBouncesService::MailBouncesService(db::Database& db, jobs::JobQueue& queue, MailSuppressionsService& suppressions,
                                       BounceOptions options)
    : db_(db), queue_(queue), suppressions_(suppressions), options_(std::move(options)) {}

std::int64_t MailBouncesService::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<BounceRecord> MailBouncesService::Record(std::int64_t site_id, const BounceReport& report) {
  auto address = SuppressionAddress(report.email);
  if (!address || !IsBounceSource(report.source)) return std::nullopt;
  const auto key = CutUtf8(report.dedupe_key, kMaxBounceKeyBytes);
  if (key.empty()) throw AppError::Internal("a bounce report without a dedupe key");
  if (db_.ReadValue([&](soci::session& s) { return bounce_store::Exists(s, site_id, key); })) return std::nullopt;

  const auto now = Now();
  BounceRecord b;
  b.site_id = site_id;
  b.email = *address;
  b.kind = report.kind;
  b.source = report.source;
  b.status = CutUtf8(report.status, kMaxBounceStatusBytes);
  b.detail = CutUtf8(report.detail, kMaxBounceDetailBytes);
  b.occurred_at = report.occurred_at > 0 ? report.occurred_at : now;
  const auto sent = db_.ReadValue([&](soci::session& s) {
    return bounce_store::FindSent(s, site_id, report.header_message_id, report.provider_message_id);
  });
  b.message_id = sent.message_id;
  b.campaign_id = sent.campaign_id;
  b.recipient_id = sent.recipient_id;

  // The suppression first: it is idempotent, so a crash before the bounce row is written only means the
  // report, when delivered again, suppresses nothing new and records the row then.
  if (b.kind != BounceKind::kSoft) {
    const auto reason = b.kind == BounceKind::kHard ? SuppressionReason::kHardBounce : SuppressionReason::kComplaint;
    suppressions_.Suppress(site_id, b.email, reason, {b.source, b.detail, b.campaign_id, std::nullopt});
  }
  auto stored = db_.WriteValue([&](soci::session& s) -> std::optional<BounceRecord> {
    auto id = bounce_store::InsertIfNew(s, b, key, now);
    if (!id) return std::nullopt;
    auto row = bounce_store::Get(s, site_id, *id);
    if (!row) throw AppError::Internal("bounce not found right after it was inserted");
    webhooks::EmitIn(queue_, s, site_id, "email.bounced", ToJson(*row));
    return row;
  });
  if (stored) queue_.NotifyEnqueued();
  return stored;
}

int MailBouncesService::ProcessInboxMessage(std::int64_t inbox_account_id, const ParsedMessage& message) {
  const auto site = db_.ReadValue([&](soci::session& s) { return bounce_store::SiteOfMailbox(s, inbox_account_id); });
  if (!site) return 0;
  int recorded = 0;
  for (const auto& report : ReportsOfDsn(message, Now())) {
    if (Record(*site, report)) ++recorded;
  }
  return recorded;
}

BouncePage MailBouncesService::List(std::int64_t site_id, const BounceFilter& filter) {
  return db_.ReadValue([&](soci::session& s) { return bounce_store::List(s, site_id, filter); });
}

BounceMailbox MailBouncesService::GetMailbox(std::int64_t site_id) {
  auto mailbox = db_.ReadValue([&](soci::session& s) { return bounce_store::GetMailbox(s, site_id); });
  if (!mailbox) throw AppError::NotFound("The site has no bounce mailbox.");
  return *mailbox;
}

BounceMailbox MailBouncesService::PutMailbox(const audit::Origin& origin, const web::Principal& caller,
                                             std::int64_t site_id, std::int64_t inbox_account_id) {
  std::optional<std::int64_t> account_site;
  if (inbox_account_id > 0 && options_.inbox_account_site) {
    account_site = options_.inbox_account_site(caller, inbox_account_id);
  }
  if (!account_site || *account_site != site_id) {
    throw AppError::Validation(
        {{"inbox_account_id", "invalid", "must be one of the site's shared inbox accounts (site_id set)"}});
  }
  const auto now = Now();
  return db_.WriteValue([&](soci::session& s) {
    if (auto other = bounce_store::SiteOfMailbox(s, inbox_account_id); other && *other != site_id) {
      throw AppError::Validation({{"inbox_account_id", "taken", "is the bounce mailbox of another site"}});
    }
    bounce_store::PutMailbox(s, site_id, inbox_account_id, now);
    audit::Record(s, audit::EntryFrom(origin, "mail_bounce_mailbox.put", "site", std::to_string(site_id), site_id,
                                      {{"inbox_account_id", inbox_account_id}}));
    auto stored = bounce_store::GetMailbox(s, site_id);
    if (!stored) throw AppError::Internal("bounce mailbox not found right after it was set");
    return *stored;
  });
}

void MailBouncesService::DeleteMailbox(const audit::Origin& origin, std::int64_t site_id) {
  db_.Write([&](soci::session& s) {
    if (!bounce_store::DeleteMailbox(s, site_id)) throw AppError::NotFound("The site has no bounce mailbox.");
    audit::Record(s, audit::EntryFrom(origin, "mail_bounce_mailbox.delete", "site", std::to_string(site_id), site_id,
                                      nlohmann::json::object()));
  });
}

}  // namespace poste::mail
