#include "modules/mail/mail_account_service.hpp"

#include <soci/soci.h>

#include <chrono>

#include "db/database.hpp"
#include "lib/mail/provider_http.hpp"
#include "lib/validate/ascii.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/mail/mail_account_store.hpp"

namespace poste::mail {

namespace {

AppError NoAccount() { return AppError::NotFound("No such mail account."); }

// Defaults written into the stored settings, so that what the API shows is what the transport uses.
void Normalise(Account& a) {
  if (a.type != "smtp") return;
  auto& s = a.settings;
  if (!s.contains("tls")) s["tls"] = "starttls";
  if (!s.contains("port")) s["port"] = s["tls"] == "implicit" ? 465 : 587;
  if (!s.contains("auth")) s["auth"] = s.contains("username") ? "plain" : "none";
  if (s.contains("host")) {
    s["host"] = validate::ascii::ToLower(s["host"].get<std::string>());
  }
}

// What the audit log keeps of an account: never a secret.
nlohmann::json Snapshot(const Account& a) {
  auto json = ToJson(a);
  json.erase("id");
  json.erase("site_id");
  json.erase("created_at");
  json.erase("updated_at");
  return json;
}

}  // namespace

MailAccountsService::MailAccountsService(db::Database& db, const crypto::SecretBox& secrets, AccountsOptions options)
    : db_(db), secrets_(secrets), options_(std::move(options)) {}

std::int64_t MailAccountsService::Now() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string MailAccountsService::SecretBinding(std::int64_t site_id, std::int64_t account_id) {
  return "site:" + std::to_string(site_id) + ":mail_account:" + std::to_string(account_id);
}

Account MailAccountsService::Open(Account a) const {
  a.secrets.clear();
  if (a.sealed_secrets.empty()) return a;
  auto json = nlohmann::json::parse(secrets_.Open(a.sealed_secrets, SecretBinding(a.site_id, a.id)), nullptr, false);
  if (json.is_object()) {
    for (const auto& [k, v] : json.items()) {
      if (v.is_string()) a.secrets[k] = v.get<std::string>();
    }
  }
  return a;
}

std::string MailAccountsService::Seal(const Account& a) const {
  if (a.secrets.empty()) return {};
  return secrets_.Seal(nlohmann::json(a.secrets).dump(), SecretBinding(a.site_id, a.id));
}

Account MailAccountsService::Create(const audit::Origin& origin, std::int64_t site_id, const NewAccount& request) {
  std::vector<FieldError> errors;
  Account a;
  a.site_id = site_id;
  a.name = request.name;
  a.type = request.type;
  a.from = {request.from.name, NormalizeAddress(request.from.email)};
  a.is_default = request.is_default;
  a.limits = request.limits;
  if (IsAccountType(a.type)) SplitSettings(a.type, request.settings, a.settings, a.secrets, errors);
  ValidateAccount(a, errors);
  ThrowIfAny(std::move(errors));
  Normalise(a);
  const auto now = Now();
  return db_.WriteValue([&](soci::session& s) {
    if (account_store::Count(s, site_id) >= kMaxAccountsPerSite) {
      throw AppError::Conflict("A site has at most " + std::to_string(kMaxAccountsPerSite) + " mail accounts.");
    }
    if (!account_store::GetDefault(s, site_id)) a.is_default = true;  // the first account sends by default
    if (a.is_default) account_store::ClearDefault(s, site_id, 0);
    a.id = account_store::Insert(s, a, now);
    a.sealed_secrets = Seal(a);  // bound to the id the insert gave
    account_store::Save(s, a, now);
    audit::Record(
        s, audit::EntryFrom(origin, "mail_account.create", "mail_account", std::to_string(a.id), site_id, Snapshot(a)));
    auto stored = account_store::Get(s, site_id, a.id);
    if (!stored) throw AppError::Internal("mail account vanished after insert");
    return Open(*stored);
  });
}

std::vector<Account> MailAccountsService::List(std::int64_t site_id) {
  auto list = db_.ReadValue([&](soci::session& s) { return account_store::List(s, site_id); });
  for (auto& a : list) a = Open(std::move(a));
  return list;
}

Account MailAccountsService::Get(std::int64_t site_id, std::int64_t id) {
  auto found = db_.ReadValue([&](soci::session& s) { return account_store::Get(s, site_id, id); });
  if (!found) throw NoAccount();
  return Open(std::move(*found));
}

Account MailAccountsService::Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                                    const AccountPatch& patch) {
  const auto now = Now();
  return db_.WriteValue([&](soci::session& s) {
    auto stored = account_store::GetForUpdate(s, site_id, id);
    if (!stored) throw NoAccount();
    const Account before = Open(*stored);
    Account after = before;
    std::vector<FieldError> errors;
    if (patch.name) after.name = *patch.name;
    if (patch.from_email) after.from.email = NormalizeAddress(*patch.from_email);
    if (patch.from_name) after.from.name = *patch.from_name;
    if (patch.limits) after.limits = *patch.limits;
    const bool retyped = patch.type && *patch.type != before.type;
    if (retyped) {
      after.type = *patch.type;
      after.settings = nlohmann::json::object();
      after.secrets.clear();
      if (!patch.settings) errors.push_back({"settings", "required", "the settings of the new type"});
    }
    if (patch.settings && IsAccountType(after.type)) {
      SplitSettings(after.type, *patch.settings, after.settings, after.secrets, errors);
    }
    ValidateAccount(after, errors);
    ThrowIfAny(std::move(errors));
    Normalise(after);
    if (patch.is_default) {
      if (*patch.is_default) {
        account_store::ClearDefault(s, site_id, id);
        after.is_default = true;
      } else if (before.is_default) {
        throw AppError::Conflict("Make another account the default instead: a site with accounts has one default.",
                                 {{"is_default", "default_required", "set is_default on another account"}});
      }
    }
    after.sealed_secrets = Seal(after);
    account_store::Save(s, after, now);
    nlohmann::json changes = nlohmann::json::object();
    const auto b = Snapshot(before), a = Snapshot(after);
    for (const auto& [key, value] : a.items()) {
      if (b[key] != value) changes[key] = {{"from", b[key]}, {"to", value}};
    }
    if (before.secrets != after.secrets) changes["secrets"] = {{"from", audit::kRedacted}, {"to", audit::kRedacted}};
    if (!changes.empty()) {
      audit::Record(
          s, audit::EntryFrom(origin, "mail_account.update", "mail_account", std::to_string(id), site_id, changes));
    }
    auto saved = account_store::Get(s, site_id, id);
    if (!saved) throw NoAccount();
    return Open(std::move(*saved));
  });
}

void MailAccountsService::Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  db_.Write([&](soci::session& s) {
    auto before = account_store::Get(s, site_id, id);
    if (!before || !account_store::Delete(s, site_id, id)) throw NoAccount();
    if (before->is_default) {
      auto rest = account_store::List(s, site_id);
      if (!rest.empty()) {
        rest.front().is_default = true;
        account_store::Save(s, rest.front(), Now());
      }
    }
    audit::Record(s, audit::EntryFrom(origin, "mail_account.delete", "mail_account", std::to_string(id), site_id,
                                      Snapshot(Open(*before))));
  });
}

DeliveryResult MailAccountsService::Test(const audit::Origin& origin, std::int64_t site_id, std::int64_t id) {
  const Account account = Get(site_id, id);
  auto result = TransportFor(account)->Check();
  result.answer = CleanAnswer(result.answer);  // whatever the server sent: storable, one line, bounded
  db_.Write([&](soci::session& s) {
    audit::Record(s, audit::EntryFrom(origin, "mail_account.test", "mail_account", std::to_string(id), site_id,
                                      {{"ok", result.outcome == DeliveryOutcome::kSent}, {"answer", result.answer}}));
  });
  return result;
}

void MailAccountsService::ReplaceSecret(std::int64_t site_id, std::int64_t id, const std::string& name,
                                        const std::string& value) {
  db_.Write([&](soci::session& s) {
    auto stored = account_store::GetForUpdate(s, site_id, id);
    if (!stored) return;
    Account a = Open(std::move(*stored));
    a.secrets[name] = value;
    a.sealed_secrets = Seal(a);
    account_store::Save(s, a, Now());
  });
}

bool MailAccountsService::ChangeSecrets(std::int64_t site_id, std::int64_t id,
                                        const std::function<bool(soci::session&, Account&)>& change) {
  return db_.WriteValue([&](soci::session& s) {
    auto stored = account_store::GetForUpdate(s, site_id, id);
    if (!stored) return false;
    Account a = Open(std::move(*stored));
    if (change(s, a)) {
      a.sealed_secrets = Seal(a);
      account_store::Save(s, a, Now());
    }
    return true;
  });
}

Account MailAccountsService::ImplicitOutbox(std::int64_t site_id) const {
  Account a;
  a.site_id = site_id;
  a.name = "Outbox";
  a.type = "outbox";
  a.is_default = true;
  a.from = options_.outbox_from ? options_.outbox_from(site_id) : Mailbox{"", "noreply@localhost.localdomain"};
  return a;
}

std::optional<Account> MailAccountsService::ResolveIn(soci::session& s, std::int64_t site_id,
                                                      std::optional<std::int64_t> id) {
  if (id && *id == 0) return ImplicitOutbox(site_id);
  if (id) {
    auto found = account_store::Get(s, site_id, *id);
    if (!found) return std::nullopt;
    return Open(std::move(*found));
  }
  if (auto found = account_store::GetDefault(s, site_id)) return Open(std::move(*found));
  return ImplicitOutbox(site_id);
}

Account MailAccountsService::Resolve(std::int64_t site_id, std::optional<std::int64_t> id) {
  auto found = db_.ReadValue([&](soci::session& s) { return ResolveIn(s, site_id, id); });
  if (!found) throw NoAccount();
  return std::move(*found);
}

std::unique_ptr<Transport> MailAccountsService::TransportFor(const Account& account) const {
  return MakeTransport(account, options_.transports);
}

}  // namespace poste::mail
