#include "modules/sites/sites_service.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "db/database.hpp"
#include "lib/error.hpp"
#include "lib/validate/slug.hpp"
#include "modules/audit/audit_service.hpp"

namespace poste::sites {

namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void RequireAdmin(const web::Principal& caller, const char* what) {
  if (!caller.admin) throw AppError(ErrorCode::kForbidden, std::string("Only administrators may ") + what + ".");
}

void ThrowIfAny(std::vector<FieldError> errors) {
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
}

// {field: {from, to}} for each top-level field that differs (timestamps left out).
nlohmann::json Diff(const nlohmann::json& before, const nlohmann::json& after) {
  nlohmann::json changes = nlohmann::json::object();
  for (const auto& [key, value] : after.items()) {
    if (key == "updated_at" || key == "created_at") continue;
    auto old = before.find(key);
    if (old == before.end() || *old != value) {
      changes[key] = {{"from", old == before.end() ? nlohmann::json() : *old}, {"to", value}};
    }
  }
  return changes;
}

AppError NoSite() { return AppError::NotFound("No such site."); }

}  // namespace

std::string SitesService::SecretBinding(std::int64_t site_id, std::string_view key) {
  return "site:" + std::to_string(site_id) + ":setting:" + std::string(key);
}

store::SitePage SitesService::List(const web::Principal& caller, store::ListOptions options) {
  if (!caller.admin || !caller.key_sites.empty()) {
    std::vector<std::int64_t> visible;
    const auto& candidates = caller.admin ? caller.key_sites : caller.site_ids;
    for (auto id : candidates) {
      if (caller.CanAccessSite(id)) visible.push_back(id);
    }
    options.site_ids = std::move(visible);
  }
  return db_.ReadValue([&](soci::session& s) { return store::List(s, options); });
}

Site SitesService::Get(std::int64_t site_id) {
  auto site = db_.ReadValue([&](soci::session& s) { return store::GetById(s, site_id); });
  if (!site) throw NoSite();
  return *site;
}

Site SitesService::Create(const web::Principal& caller, const audit::Origin& origin, const NewSite& site) {
  RequireAdmin(caller, "create sites");
  ThrowIfAny(Validate(site));
  const auto now = NowMs();
  return db_.WriteValue([&](soci::session& s) {
    const auto id = store::Insert(s, site, now);
    auto created = store::GetById(s, id);
    if (!created) throw AppError::Internal("site vanished after insert");
    auto snapshot = ToJson(*created);
    snapshot.erase("created_at"), snapshot.erase("updated_at"), snapshot.erase("id");
    audit::Record(s, audit::EntryFrom(origin, "site.create", "site", std::to_string(id), id, snapshot));
    return *created;
  });
}

Site SitesService::Update(const audit::Origin& origin, std::int64_t site_id, const SitePatch& patch) {
  ThrowIfAny(Validate(patch));
  const auto now = NowMs();
  auto [previous, updated] = db_.WriteValue([&](soci::session& s) {
    auto before = store::GetById(s, site_id);
    if (!before) throw NoSite();
    auto after = store::Update(s, site_id, patch, now);
    if (!after) throw NoSite();
    auto changes = Diff(ToJson(*before), ToJson(*after));
    if (!changes.empty()) {
      audit::Record(s, audit::EntryFrom(origin, "site.update", "site", std::to_string(site_id), site_id, changes));
    }
    return std::pair{*before, *after};
  });
  for (const auto& listener : on_updated_) {
    try {
      listener(previous, updated);
    } catch (const std::exception& error) {
      spdlog::error("site {}: an update listener failed: {}", site_id, error.what());
    }
  }
  for (const auto& listener : on_changed_) listener(site_id);
  return updated;
}

void SitesService::Delete(const web::Principal& caller, const audit::Origin& origin, std::int64_t site_id) {
  RequireAdmin(caller, "delete sites");
  auto deleted = db_.WriteValue([&](soci::session& s) {
    auto before = store::GetById(s, site_id);
    if (!before) throw NoSite();
    store::Delete(s, site_id);
    audit::Record(s, audit::EntryFrom(origin, "site.delete", "site", std::to_string(site_id), site_id,
                                      {{"slug", before->slug}, {"name", before->name}, {"domains", before->domains}}));
    return *before;
  });
  if (on_deleted_) on_deleted_();
  for (const auto& listener : on_changed_) listener(site_id);
  for (const auto& listener : on_deleted_sites_) {
    try {
      listener(deleted);
    } catch (const std::exception& error) {
      spdlog::error("site {}: a deletion listener failed: {}", site_id, error.what());
    }
  }
}

std::vector<Setting> SitesService::Settings(std::int64_t site_id) {
  return db_.ReadValue([&](soci::session& s) { return store::ListSettings(s, site_id); });
}

Setting SitesService::PutSetting(const audit::Origin& origin, std::int64_t site_id, const std::string& key,
                                 const std::string& value, bool secret) {
  auto errors = ValidateSettingKey(key);
  auto value_errors = ValidateSettingValue(value);
  errors.insert(errors.end(), value_errors.begin(), value_errors.end());
  ThrowIfAny(std::move(errors));
  const std::string stored = secret ? secrets_.Seal(value, SecretBinding(site_id, key)) : value;
  const auto now = NowMs();
  return db_.WriteValue([&](soci::session& s) {
    auto before = store::GetSetting(s, site_id, key);
    if (!store::PutSetting(s, site_id, key, stored, secret, now)) throw NoSite();
    nlohmann::json changes = {{"key", key}, {"secret", secret}};
    const nlohmann::json redacted(audit::kRedacted);
    changes["value"] = {{"from", !before          ? nlohmann::json()
                                 : before->secret ? redacted
                                                  : nlohmann::json(before->value)},
                        {"to", secret ? redacted : nlohmann::json(value)}};
    audit::Record(s, audit::EntryFrom(origin, before ? "site.setting.update" : "site.setting.create", "site_setting",
                                      std::to_string(site_id) + ":" + key, site_id, changes));
    auto after = store::GetSetting(s, site_id, key);
    if (!after) throw AppError::Internal("setting vanished after put");
    return *after;
  });
}

void SitesService::DeleteSetting(const audit::Origin& origin, std::int64_t site_id, const std::string& key) {
  db_.Write([&](soci::session& s) {
    auto before = store::GetSetting(s, site_id, key);
    if (!before || !store::DeleteSetting(s, site_id, key)) throw AppError::NotFound("No such setting.");
    nlohmann::json changes = {
        {"key", key},
        {"secret", before->secret},
        {"value", before->secret ? nlohmann::json(audit::kRedacted) : nlohmann::json(before->value)}};
    audit::Record(s, audit::EntryFrom(origin, "site.setting.delete", "site_setting",
                                      std::to_string(site_id) + ":" + key, site_id, changes));
  });
}

std::optional<std::string> SitesService::SettingValue(std::int64_t site_id, const std::string& key) {
  auto setting = db_.ReadValue([&](soci::session& s) { return store::GetSetting(s, site_id, key); });
  if (!setting) return std::nullopt;
  if (!setting->secret) return setting->value;
  return secrets_.Open(setting->value, SecretBinding(site_id, key));
}

std::optional<std::int64_t> SitesService::ResolveSite(std::string_view id_or_slug) {
  // Neither an id nor a slug names no site: answered without a query (NUL bytes, invalid UTF-8 and oversized
  // text from a URL never reach the database).
  if (!IsAllDigits(id_or_slug) && !validate::IsValidSlug(id_or_slug)) return std::nullopt;
  auto site = db_.ReadValue([&](soci::session& s) { return store::GetByIdOrSlug(s, id_or_slug); });
  if (!site) return std::nullopt;
  return site->id;
}

}  // namespace poste::sites
