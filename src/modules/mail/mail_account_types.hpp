#pragma once
// A site's mail accounts: the ways it sends (SMTP, SendGrid, Amazon SES, Gmail, Outlook, the local outbox),
// their JSON mapping and validation. Secret settings (passwords, API keys, client secrets, refresh tokens)
// travel in `secrets`, are sealed at rest (mail_account_service) and never leave the server: the JSON
// answers "<name>_set": true instead.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"
#include "lib/mail/address.hpp"

namespace poste::mail {

inline constexpr int kMaxAccountsPerSite = 50;
inline constexpr std::size_t kMaxAccountName = 100;
inline constexpr std::size_t kMaxSettingBytes = 2048;

// "smtp", "sendgrid", "ses", "gmail", "outlook", "outbox".
bool IsAccountType(std::string_view type);
// The secret setting names of a type (e.g. smtp: password; ses: secret_access_key).
const std::vector<std::string>& SecretNames(std::string_view type);

struct Limits {
  std::int64_t per_second = 0;  // 0: no limit
  std::int64_t per_hour = 0;
  std::int64_t per_day = 0;
  bool Any() const { return per_second > 0 || per_hour > 0 || per_day > 0; }
  bool operator==(const Limits&) const = default;
};

struct Account {
  std::int64_t id = 0;  // 0: the implicit outbox of a site without accounts
  std::int64_t site_id = 0;
  std::string name;
  std::string type;
  Mailbox from;
  nlohmann::json settings = nlohmann::json::object();  // the plain settings
  std::map<std::string, std::string> secrets;          // opened secrets (never serialised to clients)
  bool is_default = false;
  Limits limits;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
  std::string sealed_secrets;  // as stored
};

struct NewAccount {
  std::string name;
  std::string type;
  Mailbox from;
  nlohmann::json settings = nlohmann::json::object();  // plain and secret settings together, as sent
  bool is_default = false;
  Limits limits;
};

// Absent = unchanged. settings are merged key by key (null removes a key); when the type changes they are
// replaced wholly.
struct AccountPatch {
  std::optional<std::string> name;
  std::optional<std::string> type;
  std::optional<std::string> from_email;
  std::optional<std::string> from_name;
  std::optional<nlohmann::json> settings;
  std::optional<bool> is_default;
  std::optional<Limits> limits;
};

// {id, site_id, name, type, from{email, name}, settings{... plain, <secret>_set: true}, is_default,
//  limits{per_second, per_hour, per_day}, created_at, updated_at}.
nlohmann::json ToJson(const Account& account);

// Merges the settings sent for `type` into `plain` and `secrets` (start them empty for a new account, with
// the stored values for a PATCH, so that what is not sent again is kept), with field errors under
// "settings.<name>". Unknown keys are refused; null, or "" for a secret, removes the setting.
void SplitSettings(std::string_view type, const nlohmann::json& settings, nlohmann::json& plain,
                   std::map<std::string, std::string>& secrets, std::vector<FieldError>& errors);
// Whole-account checks: name, type, from, the settings complete for the type, limits.
void ValidateAccount(const Account& account, std::vector<FieldError>& errors);
// A limits object {"per_second", "per_hour", "per_day"} (each optional, 0..1e9).
Limits ParseLimits(const nlohmann::json& json, std::vector<FieldError>& errors);

}  // namespace poste::mail
