#include "modules/mail/mail_dkim_types.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "lib/mail/address.hpp"
#include "lib/mail/dkim.hpp"
#include "lib/mail/mime.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/validate/domain.hpp"
#include "lib/validate/text.hpp"
#include "modules/mail/mail_account_json.hpp"

namespace poste::mail {

namespace {

bool IsAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

DkimKeyInput DkimKeyInputFromJson(const nlohmann::json& json, std::vector<FieldError>& errors) {
  DkimKeyInput in;
  json_field::OnlyKnown(json, {"domain", "selector", "enabled"}, errors);
  auto domain = json_field::String(json, "domain", errors);
  auto selector = json_field::String(json, "selector", errors);
  auto enabled = json_field::Bool(json, "enabled", errors);
  if (!domain && !json.contains("domain")) errors.push_back({"domain", "required", "is required"});
  in.domain = domain.value_or("");
  in.selector = selector.value_or("");
  in.enabled = enabled.value_or(true);
  return in;
}

std::optional<std::string> DkimDomain(std::string_view domain) {
  if (domain.size() > 253 * 4 || !validate::IsValidUtf8(domain)) return std::nullopt;
  std::string normal = validate::NormalizeDomain(domain);
  const bool ascii = std::all_of(normal.begin(), normal.end(), [](char c) { return (c & 0x80) == 0; });
  if (!ascii) {
    // An IDN: the address checks accept UTF-8 labels, and AsciiAddress converts them to punycode.
    const std::string probe = "postmaster@" + normal;
    if (!IsValidAddress(probe)) return std::nullopt;
    const std::string converted = AsciiAddress(probe);
    normal = validate::ascii::ToLower(converted.substr(converted.find('@') + 1));
  }
  if (!validate::IsValidDomain(normal)) return std::nullopt;
  return normal;
}

bool IsDkimSelector(std::string_view s) {
  if (s.empty() || s.size() > kMaxDkimSelector || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
    if (c == '.' && s[i - 1] == '.') return false;  // no empty label
  }
  return true;
}

std::string FromDomain(std::string_view email) {
  const std::string ascii = AsciiAddress(std::string(email));
  const auto at = ascii.rfind('@');
  if (at == std::string::npos) return {};
  std::string domain = validate::ascii::ToLower(ascii.substr(at + 1));
  while (!domain.empty() && domain.back() == '.') domain.pop_back();
  return domain;
}

bool DkimAligned(std::string_view key_domain, std::string_view from_domain) {
  if (key_domain.empty() || from_domain.size() < key_domain.size()) return false;
  if (from_domain == key_domain) return true;
  return from_domain.ends_with(key_domain) && from_domain[from_domain.size() - key_domain.size() - 1] == '.';
}

std::string DkimDnsName(const DkimKey& key) { return key.selector + "._domainkey." + key.domain; }

std::vector<std::string> DkimTxtStrings(std::string_view record) {
  std::vector<std::string> out;
  for (std::size_t at = 0; at < record.size(); at += 255) out.emplace_back(record.substr(at, 255));
  return out;
}

nlohmann::json ToJson(const DkimKey& k) {
  const std::string record = DkimDnsRecord(k.public_key);
  const auto strings = DkimTxtStrings(record);
  std::string zone = DkimDnsName(k) + ". IN TXT (";
  for (const auto& s : strings) zone += " \"" + s + "\"";
  zone += " )";
  return {{"id", k.id},
          {"site_id", k.site_id},
          {"domain", k.domain},
          {"selector", k.selector},
          {"algorithm", "rsa-sha256"},
          {"bits", k.bits},
          {"enabled", k.enabled},
          {"dns",
           {{"name", DkimDnsName(k)}, {"type", "TXT"}, {"value", record}, {"strings", strings}, {"zone_line", zone}}},
          {"created_by", k.created_by ? nlohmann::json(*k.created_by) : nlohmann::json()},
          {"created_at", k.created_at},
          {"updated_at", k.updated_at}};
}

}  // namespace poste::mail
