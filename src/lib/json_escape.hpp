#pragma once
// Appends a JSON string literal (quotes included) for hot paths that build JSON by hand (log lines).
#include <string>
#include <string_view>

namespace poste {

void AppendJsonString(std::string& out, std::string_view s);

}  // namespace poste
