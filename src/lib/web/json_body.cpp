#include "lib/web/json_body.hpp"

#include <nlohmann/json.hpp>

#include "lib/error.hpp"

namespace poste::web {

nlohmann::json ParseJsonBody(const Request& request) {
  auto type = request.headers.Get("Content-Type");
  if (type && type->find("json") == std::string_view::npos) {
    throw AppError(ErrorCode::kUnsupportedMedia, "The request body must be JSON (Content-Type: application/json).", {},
                   {{"body", "unsupported_media_type", "expected application/json"}});
  }
  if (request.body.empty()) {
    throw AppError::BadRequest("The request body is empty.", {{"body", "required", "a JSON body is required"}});
  }
  try {
    return nlohmann::json::parse(request.body);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() names only the byte position and the reason: no internals.
    std::string reason = e.id == 316 ? "invalid_utf8" : "invalid_json";
    std::string where = "at byte " + std::to_string(e.byte);
    if (std::string_view(e.what()).find("UTF-8") != std::string_view::npos) reason = "invalid_utf8";
    throw AppError::BadRequest(
        reason == "invalid_utf8" ? "The request body is not valid UTF-8." : "The request body is not valid JSON.",
        {{"body", reason, (reason == "invalid_utf8" ? "ill-formed UTF-8 " : "syntax error ") + where}});
  }
}

}  // namespace poste::web
