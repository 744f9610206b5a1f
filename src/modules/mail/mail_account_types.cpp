#include "modules/mail/mail_account_types.hpp"

#include <algorithm>
#include <array>
#include <cctype>

#include "lib/mail/sigv4.hpp"
#include "lib/net/ip_address.hpp"
#include "lib/validate/text.hpp"

namespace poste::mail {

namespace {

enum class Kind { kString, kPort, kSecret };
struct SettingSpec {
  const char* name;
  Kind kind;
  bool required;
  std::vector<std::string_view> one_of = {};  // allowed values of a string
};

const std::vector<SettingSpec>& Specs(std::string_view type) {
  static const std::vector<SettingSpec> smtp = {
      {"host", Kind::kString, true},
      {"port", Kind::kPort, false},
      {"tls", Kind::kString, false, {"none", "starttls", "implicit"}},
      {"auth", Kind::kString, false, {"plain", "login", "xoauth2", "none"}},
      {"username", Kind::kString, false},
      {"password", Kind::kSecret, false},
      {"access_token", Kind::kSecret, false},  // XOAUTH2 with a bearer token managed elsewhere
  };
  static const std::vector<SettingSpec> sendgrid = {{"api_key", Kind::kSecret, true}};
  static const std::vector<SettingSpec> ses = {{"region", Kind::kString, true},
                                               {"access_key_id", Kind::kString, true},
                                               {"secret_access_key", Kind::kSecret, true},
                                               {"endpoint", Kind::kString, false}};
  // refresh_token: pasted, or stored by the OAuth2 connection flow (mail_oauth_service); without it the
  // account exists but cannot send until it is connected. smtp_host / smtp_port: another submission server
  // than the provider's default (Outlook.com personal accounts use smtp-mail.outlook.com).
  static const std::vector<SettingSpec> oauth = {
      {"username", Kind::kString, true},      {"client_id", Kind::kString, true},
      {"client_secret", Kind::kSecret, true}, {"refresh_token", Kind::kSecret, false},
      {"token_url", Kind::kString, false},    {"authorization_url", Kind::kString, false},
      {"smtp_host", Kind::kString, false},    {"smtp_port", Kind::kPort, false},
  };
  static const std::vector<SettingSpec> none;
  if (type == "smtp") return smtp;
  if (type == "sendgrid") return sendgrid;
  if (type == "ses") return ses;
  if (type == "gmail" || type == "outlook") return oauth;
  return none;
}

const SettingSpec* Spec(std::string_view type, std::string_view name) {
  for (const auto& s : Specs(type)) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

bool IsLdhLabel(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
}

// A host an SMTP relay may have: an IP literal, or a DNS name of LDH labels (one label allowed: "postfix"
// on a container network).
bool IsSmtpHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (net::IpAddress::Parse(host)) return true;
  std::size_t start = 0;
  while (true) {
    auto dot = host.find('.', start);
    if (!IsLdhLabel(host.substr(start, dot == std::string_view::npos ? host.npos : dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string SettingField(std::string_view name) { return "settings." + std::string(name); }

}  // namespace

bool IsAccountType(std::string_view type) {
  static constexpr std::array<std::string_view, 6> kTypes = {"smtp", "sendgrid", "ses", "gmail", "outlook", "outbox"};
  return std::find(kTypes.begin(), kTypes.end(), type) != kTypes.end();
}

const std::vector<std::string>& SecretNames(std::string_view type) {
  static const std::vector<std::string> smtp = {"password", "access_token"}, sendgrid = {"api_key"},
                                        ses = {"secret_access_key"}, oauth = {"client_secret", "refresh_token"}, none;
  if (type == "smtp") return smtp;
  if (type == "sendgrid") return sendgrid;
  if (type == "ses") return ses;
  if (type == "gmail" || type == "outlook") return oauth;
  return none;
}

nlohmann::json ToJson(const Account& a) {
  nlohmann::json settings = a.settings.is_object() ? a.settings : nlohmann::json::object();
  for (const auto& name : SecretNames(a.type)) settings[name + "_set"] = a.secrets.count(name) > 0;
  nlohmann::json out = {
      {"id", a.id},
      {"site_id", a.site_id},
      {"name", a.name},
      {"type", a.type},
      {"from", {{"email", a.from.email}, {"name", a.from.name}}},
      {"settings", std::move(settings)},
      {"is_default", a.is_default},
      {"limits", {{"per_second", a.limits.per_second}, {"per_hour", a.limits.per_hour}, {"per_day", a.limits.per_day}}},
      {"created_at", a.created_at},
      {"updated_at", a.updated_at}};
  // Gmail / Outlook: whether the account holds a refresh token (connected through OAuth2), never the token.
  if (a.type == "gmail" || a.type == "outlook") out["connected"] = a.secrets.count("refresh_token") > 0;
  return out;
}

void SplitSettings(std::string_view type, const nlohmann::json& settings, nlohmann::json& plain,
                   std::map<std::string, std::string>& secrets, std::vector<FieldError>& errors) {
  if (!settings.is_object()) {
    errors.push_back({"settings", "invalid_type", "must be an object"});
    return;
  }
  for (const auto& [name, value] : settings.items()) {
    const std::string field = SettingField(name);
    const SettingSpec* spec = Spec(type, name);
    if (!spec) {
      errors.push_back({field, "unknown_setting", "not a setting of a " + std::string(type) + " account"});
      continue;
    }
    if (value.is_null() || (spec->kind == Kind::kSecret && value.is_string() && value.get<std::string>().empty())) {
      if (spec->kind == Kind::kSecret) secrets.erase(name);
      plain.erase(name);
      continue;
    }
    if (spec->kind == Kind::kPort) {
      if (!value.is_number_integer() || value.get<std::int64_t>() < 1 || value.get<std::int64_t>() > 65535) {
        errors.push_back({field, "invalid_value", "a port number from 1 to 65535"});
      } else {
        plain[name] = value.get<std::int64_t>();
      }
      continue;
    }
    if (!value.is_string()) {
      errors.push_back({field, "invalid_type", "must be a string"});
      continue;
    }
    const std::string text = value.get<std::string>();
    const std::size_t before = errors.size();
    CheckHeaderValue(text, field, errors, kMaxSettingBytes);
    if (errors.size() != before) continue;
    if (!spec->one_of.empty() && std::find(spec->one_of.begin(), spec->one_of.end(), text) == spec->one_of.end()) {
      std::string list;
      for (auto v : spec->one_of) list += (list.empty() ? "" : ", ") + std::string(v);
      errors.push_back({field, "invalid_value", "one of " + list});
      continue;
    }
    if (spec->kind == Kind::kSecret) {
      secrets[name] = text;
    } else {
      plain[name] = text;
    }
  }
}

void ValidateAccount(const Account& a, std::vector<FieldError>& errors) {
  if (a.name.empty()) {
    errors.push_back({"name", "required", "a name for the account"});
  } else if (!validate::IsValidUtf8(a.name) || validate::HasControlChars(a.name, false)) {
    errors.push_back({"name", "invalid_characters", "text without control characters"});
  } else if (validate::Utf8Length(a.name) > kMaxAccountName) {
    errors.push_back({"name", "too_long", "at most 100 characters"});
  }
  if (!IsAccountType(a.type)) {
    errors.push_back({"type", "invalid_value", "one of smtp, sendgrid, ses, gmail, outlook, outbox"});
    return;
  }
  if (a.from.email.empty()) {
    errors.push_back({"from.email", "required", "the address messages are sent from"});
  } else {
    CheckMailbox(a.from, "from", errors);
  }
  for (const auto& spec : Specs(a.type)) {
    if (!spec.required) continue;
    const bool present = spec.kind == Kind::kSecret ? a.secrets.count(spec.name) > 0 : a.settings.contains(spec.name);
    if (!present) errors.push_back({SettingField(spec.name), "required", "required for a " + a.type + " account"});
  }
  const bool oauth = a.type == "gmail" || a.type == "outlook";
  if (const char* host_key = a.type == "smtp" ? "host"
                             : oauth          ? "smtp_host"
                                              : nullptr;
      host_key && a.settings.contains(host_key) && !IsSmtpHost(a.settings[host_key].get<std::string>())) {
    errors.push_back({SettingField(host_key), "invalid_format", "a host name or an IP address"});
  }
  if (a.type == "smtp") {
    const std::string auth = a.settings.value("auth", a.settings.contains("username") ? "plain" : "none");
    if ((auth == "plain" || auth == "login") && (!a.settings.contains("username") || !a.secrets.count("password"))) {
      errors.push_back({a.settings.contains("username") ? "settings.password" : "settings.username", "required",
                        "AUTH " + auth + " needs a username and a password"});
    }
    if (auth == "xoauth2" && (!a.settings.contains("username") || !a.secrets.count("access_token"))) {
      errors.push_back({a.settings.contains("username") ? "settings.access_token" : "settings.username", "required",
                        "AUTH xoauth2 needs a username and an access token"});
    }
  }
  if (a.type == "ses" && a.settings.contains("region")) {
    const std::string region = a.settings["region"];
    if (!IsValidAwsRegion(region)) {
      errors.push_back({"settings.region", "invalid_format", "an AWS region such as eu-west-1"});
    }
  }
  if (oauth && a.settings.contains("username") && !IsValidAddress(a.settings["username"].get<std::string>())) {
    errors.push_back({"settings.username", "invalid_email", "the account's email address"});
  }
  for (const char* url_key : {"endpoint", "token_url", "authorization_url"}) {
    if (a.settings.contains(url_key)) {
      const std::string url = a.settings[url_key];
      if (!url.starts_with("https://") && !url.starts_with("http://")) {
        errors.push_back({SettingField(url_key), "invalid_format", "an http:// or https:// URL"});
      }
    }
  }
}

Limits ParseLimits(const nlohmann::json& json, std::vector<FieldError>& errors) {
  Limits out;
  if (!json.is_object()) {
    errors.push_back({"limits", "invalid_type", "must be an object"});
    return out;
  }
  for (const auto& [name, value] : json.items()) {
    std::int64_t* target = name == "per_second" ? &out.per_second
                           : name == "per_hour" ? &out.per_hour
                           : name == "per_day"  ? &out.per_day
                                                : nullptr;
    const std::string field = "limits." + name;
    if (!target) {
      errors.push_back({field, "unknown_field", "one of per_second, per_hour, per_day"});
    } else if (value.is_null()) {
      *target = 0;
    } else if (!value.is_number_integer() || value.get<std::int64_t>() < 0 ||
               value.get<std::int64_t>() > 1'000'000'000) {
      errors.push_back({field, "invalid_value", "a whole number from 0 (no limit) to 1000000000"});
    } else {
      *target = value.get<std::int64_t>();
    }
  }
  return out;
}

}  // namespace poste::mail
