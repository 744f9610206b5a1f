#include "modules/mail/mail_dkim_service.hpp"

#include <soci/soci.h>

#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "lib/crypto/secret_box.hpp"
#include "lib/error.hpp"
#include "lib/mail/address.hpp"
#include "lib/validate/ascii.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/mail/mail_dkim_store.hpp"

namespace poste::mail {

namespace {

AppError NoKey() { return AppError::NotFound("No such DKIM key."); }

nlohmann::json Snapshot(const DkimKey& k) {
  return {{"domain", k.domain}, {"selector", k.selector}, {"enabled", k.enabled}, {"bits", k.bits}};
}

// "poste" and the year and month of now (UTC): a new selector each month keeps rotations apart.
std::string DefaultSelector(std::int64_t now_ms) {
  const std::time_t t = static_cast<std::time_t>(now_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::snprintf(buf, sizeof buf, "poste%04d%02d", tm.tm_year + 1900, tm.tm_mon + 1);
  return buf;
}

}  // namespace

const DkimSigners::Entry* DkimSigners::For(std::string_view from_email) const {
  const std::string domain = FromDomain(from_email);
  const Entry* best = nullptr;
  for (const auto& e : entries_) {  // newest first: a later entry wins only with a closer domain
    if (!DkimAligned(e.domain, domain)) continue;
    if (best == nullptr || e.domain.size() > best->domain.size()) best = &e;
  }
  return best;
}

std::string DkimSigners::Sign(std::string_view from_email, std::string_view message) const {
  const Entry* e = For(from_email);
  return e == nullptr ? std::string() : e->signer->Sign(message);
}

MailDkimService::MailDkimService(db::Database& db, const crypto::SecretBox& secrets,
                                 std::function<std::int64_t()> now_ms)
    : db_(db), secrets_(secrets), now_ms_(std::move(now_ms)) {}

std::int64_t MailDkimService::Now() const {
  if (now_ms_) return now_ms_();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string MailDkimService::SecretBinding(std::int64_t site_id, std::int64_t key_id) {
  return "site:" + std::to_string(site_id) + ":mail_dkim_key:" + std::to_string(key_id);
}

DkimKey MailDkimService::Generate(const audit::Origin& origin, std::int64_t site_id, const DkimKeyInput& input) {
  const auto now = Now();
  std::vector<FieldError> errors;
  DkimKey k;
  k.site_id = site_id;
  if (auto domain = DkimDomain(input.domain)) {
    k.domain = *domain;
  } else {
    errors.push_back({"domain", "invalid_domain", "must be a domain name, e.g. example.com"});
  }
  k.selector = input.selector.empty() ? DefaultSelector(now) : validate::ascii::ToLower(input.selector);
  if (!IsDkimSelector(k.selector)) {
    errors.push_back({"selector", "invalid_selector",
                      "1 to 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"});
  }
  ThrowIfAny(std::move(errors));
  k.enabled = input.enabled;
  k.created_by = origin.user_id;
  // Generated outside the transaction: it takes a while and needs nothing from the database.
  const auto pair = GenerateDkimKey(kDkimKeyBits);
  k.public_key = pair.public_key_base64;
  k.bits = kDkimKeyBits;
  return db_.WriteValue([&](soci::session& s) {
    if (dkim_store::Count(s, site_id) >= kMaxDkimKeysPerSite) {
      throw AppError::Conflict("A site has at most " + std::to_string(kMaxDkimKeysPerSite) + " DKIM keys.");
    }
    auto id = dkim_store::Insert(s, k, now);
    if (!id) {
      throw AppError::Conflict("The site already has a DKIM key for " + k.domain + " with the selector " + k.selector +
                               ".");
    }
    k.id = *id;
    dkim_store::SetPrivateKey(s, site_id, k.id, secrets_.Seal(pair.private_key_pem, SecretBinding(site_id, k.id)));
    audit::Record(s, audit::EntryFrom(origin, "mail_dkim_key.create", "mail_dkim_key", std::to_string(k.id), site_id,
                                      Snapshot(k)));
    auto stored = dkim_store::Get(s, site_id, k.id);
    if (!stored) throw AppError::Internal("DKIM key vanished after insert");
    return *stored;
  });
}

std::vector<DkimKey> MailDkimService::List(std::int64_t site_id) {
  return db_.ReadValue([&](soci::session& s) { return dkim_store::List(s, site_id); });
}

DkimKey MailDkimService::Get(std::int64_t site_id, std::int64_t id) {
  auto found = db_.ReadValue([&](soci::session& s) { return dkim_store::Get(s, site_id, id); });
  if (!found) throw NoKey();
  return std::move(*found);
}

DkimKey MailDkimService::SetEnabled(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, bool enabled) {
  return db_.WriteValue([&](soci::session& s) {
    auto before = dkim_store::Get(s, site_id, id);
    if (!before) throw NoKey();
    if (before->enabled == enabled) return *before;
    dkim_store::SetEnabled(s, site_id, id, enabled, Now());
    audit::Record(
        s, audit::EntryFrom(origin, enabled ? "mail_dkim_key.enable" : "mail_dkim_key.disable", "mail_dkim_key",
                            std::to_string(id), site_id, {{"enabled", {{"from", before->enabled}, {"to", enabled}}}}));
    auto after = dkim_store::Get(s, site_id, id);
    if (!after) throw NoKey();
    return *after;
  });
}

void MailDkimService::Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  db_.Write([&](soci::session& s) {
    auto before = dkim_store::Get(s, site_id, id);
    if (!before || !dkim_store::Delete(s, site_id, id)) throw NoKey();
    audit::Record(s, audit::EntryFrom(origin, "mail_dkim_key.delete", "mail_dkim_key", std::to_string(id), site_id,
                                      Snapshot(*before)));
  });
}

DkimSigners MailDkimService::Open(std::int64_t site_id, const std::vector<DkimKey>& keys) const {
  std::vector<DkimSigners::Entry> entries;
  entries.reserve(keys.size());
  for (const auto& k : keys) {
    if (k.sealed_private_key.empty()) continue;  // a generation that did not finish
    DkimSignOptions options{k.domain, k.selector, secrets_.Open(k.sealed_private_key, SecretBinding(site_id, k.id))};
    entries.push_back({k.domain, k.selector, std::make_shared<const DkimSigner>(std::move(options))});
  }
  return DkimSigners(std::move(entries));
}

DkimSigners MailDkimService::SignersFor(std::int64_t site_id) {
  return Open(site_id, db_.ReadValue([&](soci::session& s) { return dkim_store::ListEnabled(s, site_id); }));
}

std::string MailDkimService::SignatureFor(std::int64_t site_id, std::string_view from_email, std::string_view message) {
  auto keys = db_.ReadValue([&](soci::session& s) { return dkim_store::ListEnabled(s, site_id); });
  // Only the key that signs is opened and parsed.
  const std::string domain = FromDomain(from_email);
  const DkimKey* best = nullptr;
  for (const auto& k : keys) {  // newest first: a later key wins only with a closer domain
    if (k.sealed_private_key.empty() || !DkimAligned(k.domain, domain)) continue;
    if (best == nullptr || k.domain.size() > best->domain.size()) best = &k;
  }
  if (best == nullptr) return {};
  return Open(site_id, {*best}).Sign(from_email, message);
}

}  // namespace poste::mail
