#pragma once
// The single mapping from errors to RFC 9457 application/problem+json responses (used by the http pipeline
// for thrown errors, and by middleware that answers itself).
#include <string_view>

#include "lib/error.hpp"
#include "lib/web/message.hpp"
#include "lib/web/route.hpp"

namespace poste::web {

web::Response ProblemResponse(const AppError& error, std::string_view instance, std::string_view request_id);
web::Response ProblemResponse(int status, std::string_view detail, std::string_view instance,
                              std::string_view request_id);
// The same for the request in flight: where a middleware or a handler must add headers to the problem
// (WWW-Authenticate on 401, Retry-After on 429), which a thrown AppError cannot.
web::Response ProblemFor(const web::RequestContext& ctx, const AppError& error);

}  // namespace poste::web
