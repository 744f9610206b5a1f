#include "modules/mail/mail_suppression_service.hpp"

#include <soci/soci.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "lib/validate/text.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/mail/mail_suppression_store.hpp"

namespace poste::mail {

namespace {

AppError NotListed() { return AppError::NotFound("The site does not list this address."); }

AppError InvalidEmail() {
  return AppError::Validation({{"email", "invalid_email", "must be an email address (local@domain)"}});
}

// At most max_bytes, cut on a UTF-8 character boundary.
std::string Cut(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut));
}

bool AllDigits(std::string_view text) {
  return !text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// Adds or upgrades the entry for entry.email (normalised) on the caller's transaction.
SuppressResult SuppressIn(soci::session& s, const Suppression& entry, std::int64_t now) {
  // A concurrent report may change the row between the read and the conditional update: read again.
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (auto id = suppression_store::InsertIfAbsent(s, entry, now)) {
      auto added = suppression_store::Get(s, entry.site_id, *id);
      if (!added) throw AppError::Internal("suppression not found right after it was inserted");
      return {*added, SuppressOutcome::kAdded};
    }
    auto current = suppression_store::GetByEmail(s, entry.site_id, entry.email);
    if (!current) continue;  // removed in between: insert again
    if (!Outranks(entry.reason, current->reason)) return {*current, SuppressOutcome::kUnchanged};
    Suppression upgraded = entry;
    upgraded.id = current->id;
    if (suppression_store::Replace(s, upgraded, current->reason, now)) {
      auto stored = suppression_store::Get(s, entry.site_id, current->id);
      if (!stored) throw AppError::Internal("suppression not found right after it was updated");
      return {*stored, SuppressOutcome::kUpgraded};
    }
  }
  throw AppError::Unavailable("The suppression list is busy; try again.", "suppress: too many concurrent changes");
}

Suppression EntryFor(std::int64_t site_id, std::string address, SuppressionReason reason,
                     const SuppressionReport& report) {
  Suppression entry;
  entry.site_id = site_id;
  entry.email = std::move(address);
  entry.reason = reason;
  entry.source = Cut(report.source, kMaxSuppressionSourceBytes);
  entry.detail = Cut(report.detail, kMaxSuppressionDetailBytes);
  entry.campaign_id = report.campaign_id;
  entry.created_by = report.created_by;
  return entry;
}

}  // namespace

MailSuppressionsService::MailSuppressionsService(db::Database& db, std::function<std::int64_t()> now_ms)
    : db_(db), now_ms_(std::move(now_ms)) {}

std::int64_t MailSuppressionsService::Now() const {
  if (now_ms_) return now_ms_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool MailSuppressionsService::IsSuppressed(std::int64_t site_id, std::string_view email) {
  auto address = SuppressionAddress(email);
  if (!address) return false;
  return db_.ReadValue([&](soci::session& s) { return suppression_store::Contains(s, site_id, *address); });
}

std::vector<std::string> MailSuppressionsService::SuppressedAmong(std::int64_t site_id,
                                                                  const std::vector<std::string>& emails) {
  std::unordered_multimap<std::string, std::size_t> given;  // normal form -> index in `emails`
  std::vector<std::string> addresses;
  for (std::size_t i = 0; i < emails.size(); ++i) {
    auto address = SuppressionAddress(emails[i]);
    if (!address) continue;
    if (!given.count(*address)) addresses.push_back(*address);
    given.emplace(*address, i);
  }
  auto listed = db_.ReadValue([&](soci::session& s) {
    return addresses.empty() ? std::vector<std::string>{} : suppression_store::ContainedAmong(s, site_id, addresses);
  });
  std::vector<bool> hit(emails.size(), false);
  for (const auto& address : listed) {
    auto [first, last] = given.equal_range(address);
    for (auto it = first; it != last; ++it) hit[it->second] = true;
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < emails.size(); ++i) {
    if (hit[i]) out.push_back(emails[i]);
  }
  return out;
}

SuppressResult MailSuppressionsService::Suppress(std::int64_t site_id, std::string_view email, SuppressionReason reason,
                                                 const SuppressionReport& report) {
  auto address = SuppressionAddress(email);
  if (!address) throw InvalidEmail();
  const auto entry = EntryFor(site_id, std::move(*address), reason, report);
  const auto now = Now();
  return db_.WriteValue([&](soci::session& s) { return SuppressIn(s, entry, now); });
}

SuppressResult MailSuppressionsService::AddManual(const audit::Origin& origin, std::int64_t site_id,
                                                  std::string_view email, std::string_view note) {
  std::vector<FieldError> errors;
  auto address = SuppressionAddress(email);
  if (!address) errors.push_back(InvalidEmail().fields()[0]);
  if (!validate::IsValidUtf8(note)) {
    errors.push_back({"note", "invalid_utf8", "must be valid UTF-8"});
  } else if (validate::HasControlChars(note, true)) {
    errors.push_back({"note", "invalid_characters", "holds control characters"});
  } else if (validate::Utf8Length(note) > kMaxSuppressionNoteChars) {
    errors.push_back({"note", "too_long", "at most " + std::to_string(kMaxSuppressionNoteChars) + " characters"});
  }
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  const auto entry = EntryFor(site_id, std::move(*address), SuppressionReason::kManual,
                              {"api", std::string(note), {}, origin.user_id});
  const auto now = Now();
  return db_.WriteValue([&](soci::session& s) {
    auto result = SuppressIn(s, entry, now);
    if (result.outcome == SuppressOutcome::kAdded) {
      audit::Record(
          s, audit::EntryFrom(origin, "mail_suppression.add", "mail_suppression", std::to_string(result.entry.id),
                              site_id, {{"email", result.entry.email}, {"reason", "manual"}}));
    }
    return result;
  });
}

SuppressionPage MailSuppressionsService::List(std::int64_t site_id, SuppressionFilter filter) {
  // A whole address is searched in its normal form (an international domain is stored in punycode).
  if (auto address = SuppressionAddress(filter.q)) filter.q = *address;
  return db_.ReadValue([&](soci::session& s) { return suppression_store::List(s, site_id, filter); });
}

Suppression MailSuppressionsService::Get(std::int64_t site_id, std::string_view id_or_email) {
  std::optional<Suppression> found;
  if (AllDigits(id_or_email)) {
    const auto id = std::stoll(std::string(id_or_email));
    found = db_.ReadValue([&](soci::session& s) { return suppression_store::Get(s, site_id, id); });
  } else if (auto address = SuppressionAddress(id_or_email)) {
    found = db_.ReadValue([&](soci::session& s) { return suppression_store::GetByEmail(s, site_id, *address); });
  }
  if (!found) throw NotListed();
  return *found;
}

void MailSuppressionsService::Remove(const audit::Origin& origin, std::int64_t site_id, std::string_view id_or_email) {
  std::optional<std::int64_t> id;
  std::optional<std::string> address;
  if (AllDigits(id_or_email)) {
    id = std::stoll(std::string(id_or_email));
  } else {
    address = SuppressionAddress(id_or_email);
    if (!address) throw NotListed();
  }
  db_.Write([&](soci::session& s) {
    auto found = id ? suppression_store::Get(s, site_id, *id) : suppression_store::GetByEmail(s, site_id, *address);
    if (!found || !suppression_store::Delete(s, site_id, found->id)) throw NotListed();
    audit::Record(s, audit::EntryFrom(origin, "mail_suppression.remove", "mail_suppression", std::to_string(found->id),
                                      site_id, {{"email", found->email}, {"reason", ReasonName(found->reason)}}));
  });
}

}  // namespace poste::mail
