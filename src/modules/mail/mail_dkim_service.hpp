#pragma once
// DKIM keys per site: generated here (RSA-2048; the private key sealed at rest, never returned), shown with
// the DNS record to publish, enabled, disabled and deleted by the site's admins (audited); and the signing
// of outgoing mail. No HTTP here.
//
// Signing: SignersFor(site) opens and parses the site's enabled keys once; DkimSigners::Sign then costs one
// RSA signature per message, so a campaign batch calls SignersFor once and Sign per message. The single
// message path calls SignatureFor (both at once). A message whose From aligns with no enabled key is sent
// unsigned (Sign answers "").
//
// Every member blocks (SQL, key generation): call it through co_await blocking(...) or from a job.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lib/mail/dkim.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/mail/mail_dkim_types.hpp"

namespace poste::db {
class Database;
}
namespace poste::crypto {
class SecretBox;
}

namespace poste::mail {

// The enabled keys of one site, ready to sign. Immutable once made: share it between the threads of a batch.
class DkimSigners {
 public:
  struct Entry {
    std::string domain;
    std::string selector;
    std::shared_ptr<const DkimSigner> signer;
  };
  DkimSigners() = default;
  explicit DkimSigners(std::vector<Entry> entries) : entries_(std::move(entries)) {}

  // The key that signs mail From `from_email`: the closest aligned domain, then the newest key; null if none.
  const Entry* For(std::string_view from_email) const;
  // The "DKIM-Signature: ...\r\n" header to put before `message` (CRLF bytes, as BuildMessage writes them),
  // or "" when no key signs for this From. Throws AppError::Internal when libopendkim refuses.
  std::string Sign(std::string_view from_email, std::string_view message) const;
  bool empty() const { return entries_.empty(); }

 private:
  std::vector<Entry> entries_;  // newest first
};

class MailDkimService {
 public:
  MailDkimService(db::Database& db, const crypto::SecretBox& secrets, std::function<std::int64_t()> now_ms = {});

  // 422 with field errors (domain, selector); 409 when the site already has this domain and selector, or
  // kMaxDkimKeysPerSite keys.
  DkimKey Generate(const audit::Origin& origin, std::int64_t site_id, const DkimKeyInput& input);
  std::vector<DkimKey> List(std::int64_t site_id);
  // 404 when the site has no such key.
  DkimKey Get(std::int64_t site_id, std::int64_t id);
  DkimKey SetEnabled(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, bool enabled);
  void Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);

  // For a batch: the site's enabled keys, opened and parsed once.
  DkimSigners SignersFor(std::int64_t site_id);
  // For one message: its DKIM-Signature header, or "" when no enabled key of the site aligns with the From.
  std::string SignatureFor(std::int64_t site_id, std::string_view from_email, std::string_view message);

  // The associated data a key's sealed private key is bound to (also used by `poste keys rotate`).
  static std::string SecretBinding(std::int64_t site_id, std::int64_t key_id);

 private:
  std::int64_t Now() const;
  DkimSigners Open(std::int64_t site_id, const std::vector<DkimKey>& keys) const;

  db::Database& db_;
  const crypto::SecretBox& secrets_;
  std::function<std::int64_t()> now_ms_;
};

}  // namespace poste::mail
