#pragma once
// The single mapping from errors to RFC 9457 application/problem+json responses.
#include <string_view>

#include "lib/error.hpp"
#include "lib/web/message.hpp"

namespace poste::http {

web::Response ProblemResponse(const AppError& error, std::string_view instance, std::string_view request_id);
web::Response ProblemResponse(int status, std::string_view detail, std::string_view instance,
                              std::string_view request_id);

}  // namespace poste::http
