#pragma once
// One JSON line per request on the "access" logger.
#include <string_view>

#include "lib/web/message.hpp"

namespace poste::http {

void LogAccess(const web::Request& request, const web::Response& response, std::string_view route,
               std::string_view request_id, double seconds);

}  // namespace poste::http
