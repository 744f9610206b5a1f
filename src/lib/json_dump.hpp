#pragma once
// JSON text that never throws: invalid UTF-8 in strings (text taken from requests, files or databases) is
// replaced by U+FFFD instead of failing the whole dump. One copy for the stores and the routes.
#include <nlohmann/json_fwd.hpp>

#include <string>

namespace poste {

// Compact JSON (no spaces).
std::string DumpJson(const nlohmann::json& j);

}  // namespace poste
