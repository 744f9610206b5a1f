#include "lib/json_dump.hpp"

#include <nlohmann/json.hpp>

namespace poste {

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace poste
