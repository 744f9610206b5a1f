#pragma once
// A site's mail accounts: create / list / read / update / delete with validation, secrets sealed with the
// master key's SecretBox (bound to site and account), one default account per site (setting one clears the
// other; the first account becomes the default; deleting the default promotes the oldest remaining one), an
// audit entry for each change, and the account test (connect, authenticate, report the server's answer).
// A site without accounts sends through its implicit outbox (Resolve), so sending needs no setup.
//
// Every member blocks (SQL, sockets): call it through co_await blocking(...) or from a job.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "lib/crypto/secret_box.hpp"
#include "lib/mail/delivery.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/mail/mail_account_types.hpp"
#include "modules/mail/mail_transport.hpp"

namespace soci {
class session;
}
namespace poste::db {
class Database;
}

namespace poste::mail {

struct AccountsOptions {
  TransportSettings transports;
  // The From of a site's implicit outbox (e.g. the site's contact address); default: noreply@localhost.
  std::function<Mailbox(std::int64_t site_id)> outbox_from;
  std::function<std::int64_t()> now_ms;  // epoch ms; default: the system clock
};

class MailAccountsService {
 public:
  MailAccountsService(db::Database& db, const crypto::SecretBox& secrets, AccountsOptions options);

  // 422 with field errors; 409 beyond kMaxAccountsPerSite.
  Account Create(const audit::Origin& origin, std::int64_t site_id, const NewAccount& request);
  // Oldest first, secrets opened (serialise with ToJson, which shows only whether each is set).
  std::vector<Account> List(std::int64_t site_id);
  // 404 when the site has no such account.
  Account Get(std::int64_t site_id, std::int64_t id);
  Account Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, const AccountPatch& patch);
  void Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);
  // Connects and authenticates without sending: the transport's Check (audited).
  DeliveryResult Test(const audit::Origin& origin, std::int64_t site_id, std::int64_t id);

  // Replaces one secret of the account as a provider handed it back (a rotated OAuth2 refresh token). No
  // audit entry: nobody changed the settings. Does nothing when the account is gone.
  void ReplaceSecret(std::int64_t site_id, std::int64_t id, const std::string& name, const std::string& value);
  // Reads and changes the account's opened secrets in one write transaction, the row locked: `change` gets
  // the transaction's session (for the caller's own writes, such as an audit entry) and the account, and
  // returns whether to seal and store its secrets again. For flows that keep their state with the account
  // (the OAuth2 connection's pending authorization). No audit entry of its own. false when the account is gone.
  bool ChangeSecrets(std::int64_t site_id, std::int64_t id,
                     const std::function<bool(soci::session&, Account&)>& change);

  // The account a message goes through: `id` when given (404 when not the site's), else the site's
  // default, else the implicit outbox (id 0). With secrets opened.
  Account Resolve(std::int64_t site_id, std::optional<std::int64_t> id);
  // The same on the caller's session (inside a Write or Read).
  std::optional<Account> ResolveIn(soci::session& s, std::int64_t site_id, std::optional<std::int64_t> id);
  std::unique_ptr<Transport> TransportFor(const Account& account) const;
  const TransportSettings& transport_settings() const { return options_.transports; }

  static std::string SecretBinding(std::int64_t site_id, std::int64_t account_id);

 private:
  std::int64_t Now() const;
  Account Open(Account account) const;
  std::string Seal(const Account& account) const;
  Account ImplicitOutbox(std::int64_t site_id) const;

  db::Database& db_;
  const crypto::SecretBox& secrets_;
  AccountsOptions options_;
};

}  // namespace poste::mail
