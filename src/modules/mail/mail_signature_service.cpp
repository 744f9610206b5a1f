#include "modules/mail/mail_signature_service.hpp"

#include <soci/soci.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/mail/mail_signature_store.hpp"

namespace poste::mail {

MailSignaturesService::MailSignaturesService(db::Database& db, std::function<std::int64_t()> now_ms)
    : db_(db), now_ms_(std::move(now_ms)) {}

std::int64_t MailSignaturesService::Now() const {
  if (now_ms_) return now_ms_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<MailSignature> MailSignaturesService::SignatureFor(std::int64_t site_id, std::int64_t user_id) {
  return db_.ReadValue([&](soci::session& s) { return signature_store::Get(s, site_id, user_id); });
}

MailSignature MailSignaturesService::Put(const audit::Origin& origin, std::int64_t site_id, std::int64_t user_id,
                                         const SignatureInput& input) {
  auto errors = Validate(input);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  const auto now = Now();
  auto stored = db_.WriteValue([&](soci::session& s) {
    signature_store::Put(s, site_id, user_id, input, now);
    // Sizes, not contents: the audit log says that it changed, the signature itself stays in one place.
    audit::Record(s, audit::EntryFrom(origin, "mail_signature.put", "mail_signature", std::to_string(user_id), site_id,
                                      {{"html_bytes", input.html.size()}, {"text_bytes", input.text.size()}}));
    return signature_store::Get(s, site_id, user_id);
  });
  if (!stored) throw AppError::Internal("mail signature not found right after it was written");
  return *stored;
}

void MailSignaturesService::Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t user_id) {
  db_.Write([&](soci::session& s) {
    if (!signature_store::Delete(s, site_id, user_id)) return;
    audit::Record(s, audit::EntryFrom(origin, "mail_signature.delete", "mail_signature", std::to_string(user_id),
                                      site_id, nlohmann::json::object()));
  });
}

}  // namespace poste::mail
