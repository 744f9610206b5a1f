#pragma once
// The one way handlers read a JSON request body: invalid UTF-8, invalid JSON or a wrong content type
// become a 400/415 problem with the field "body" and the reason, never an exception from the parser.
#include <nlohmann/json_fwd.hpp>

#include "lib/web/message.hpp"

namespace poste::web {

nlohmann::json ParseJsonBody(const Request& request);

}  // namespace poste::web
