#include "modules/mail/mail_account_json.hpp"

#include <algorithm>

namespace poste::mail::json_field {

namespace {

const nlohmann::json* Find(const nlohmann::json& j, const std::string& name) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

}  // namespace

std::optional<std::string> String(const nlohmann::json& j, const std::string& name, std::vector<FieldError>& errors,
                                  const std::string& prefix) {
  const auto* v = Find(j, name);
  if (!v) return std::nullopt;
  if (!v->is_string()) return errors.push_back({prefix + name, "invalid_type", "must be a string"}), std::nullopt;
  return v->get<std::string>();
}

std::optional<bool> Bool(const nlohmann::json& j, const std::string& name, std::vector<FieldError>& errors,
                         const std::string& prefix) {
  const auto* v = Find(j, name);
  if (!v) return std::nullopt;
  if (!v->is_boolean()) return errors.push_back({prefix + name, "invalid_type", "must be a boolean"}), std::nullopt;
  return v->get<bool>();
}

std::optional<std::int64_t> Int(const nlohmann::json& j, const std::string& name, std::vector<FieldError>& errors,
                                const std::string& prefix) {
  const auto* v = Find(j, name);
  if (!v) return std::nullopt;
  if (!v->is_number_integer()) {
    return errors.push_back({prefix + name, "invalid_type", "must be a whole number"}), std::nullopt;
  }
  return v->get<std::int64_t>();
}

std::optional<nlohmann::json> Object(const nlohmann::json& j, const std::string& name, std::vector<FieldError>& errors,
                                     const std::string& prefix) {
  const auto* v = Find(j, name);
  if (!v) return std::nullopt;
  if (!v->is_object()) return errors.push_back({prefix + name, "invalid_type", "must be an object"}), std::nullopt;
  return *v;
}

void OnlyKnown(const nlohmann::json& j, const std::vector<std::string>& known, std::vector<FieldError>& errors,
               const std::string& prefix) {
  for (const auto& [key, value] : j.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      errors.push_back({prefix + key, "unknown_field", "not a field of this object"});
    }
  }
}

}  // namespace poste::mail::json_field
