#pragma once
// Typed readers of request JSON fields for the mail routes: a wrong type is a field error; absent or null
// gives nullopt.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/error.hpp"

namespace poste::mail::json_field {

std::optional<std::string> String(const nlohmann::json& j, const std::string& name, std::vector<FieldError>& errors,
                                  const std::string& prefix = {});
std::optional<bool> Bool(const nlohmann::json& j, const std::string& name, std::vector<FieldError>& errors,
                         const std::string& prefix = {});
std::optional<std::int64_t> Int(const nlohmann::json& j, const std::string& name, std::vector<FieldError>& errors,
                                const std::string& prefix = {});
// An object field; nullopt when absent or null.
std::optional<nlohmann::json> Object(const nlohmann::json& j, const std::string& name, std::vector<FieldError>& errors,
                                     const std::string& prefix = {});
// Fields of `j` not in `known` are refused ("unknown_field").
void OnlyKnown(const nlohmann::json& j, const std::vector<std::string>& known, std::vector<FieldError>& errors,
               const std::string& prefix = {});

}  // namespace poste::mail::json_field
