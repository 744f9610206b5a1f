#pragma once
// Signatures per user and site: each user sets their own for each site they work on (the routes act on the
// caller's own); the send path appends a sender's signature with SignatureFor. Changes are audited. No HTTP.
//
// Every member blocks (SQL): call it through co_await blocking(...).
#include <cstdint>
#include <functional>
#include <optional>

#include "modules/audit/audit_types.hpp"
#include "modules/mail/mail_signature_types.hpp"

namespace poste::db {
class Database;
}

namespace poste::mail {

class MailSignaturesService {
 public:
  explicit MailSignaturesService(db::Database& db, std::function<std::int64_t()> now_ms = {});

  // The user's signature for the site; nullopt when none is set. For the send path too.
  std::optional<MailSignature> SignatureFor(std::int64_t site_id, std::int64_t user_id);
  // Sets both versions as given; 422 with field errors (too long, invalid UTF-8, control characters).
  MailSignature Put(const audit::Origin& origin, std::int64_t site_id, std::int64_t user_id,
                    const SignatureInput& input);
  // Removes it; removing a signature that is not there is not an error.
  void Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t user_id);

 private:
  std::int64_t Now() const;

  db::Database& db_;
  std::function<std::int64_t()> now_ms_;
};

}  // namespace poste::mail
