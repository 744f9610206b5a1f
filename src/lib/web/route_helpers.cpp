#include "lib/web/route_helpers.hpp"

#include "lib/error.hpp"
#include "lib/validate/text.hpp"
#include "lib/web/json_body.hpp"

namespace poste::web {

std::int64_t SiteId(const RequestContext& ctx) {
  if (ctx.site_id <= 0) throw AppError::Internal("site route reached without the site-access middleware");
  return ctx.site_id;
}

std::int64_t PathId(const RequestContext& ctx, const char* name, const char* what) {
  const std::string& text = ctx.Param(name);
  std::int64_t id = 0;
  bool ok = !text.empty() && text.size() <= 18;
  for (char c : text) {
    if (!ok) break;
    ok = c >= '0' && c <= '9';
    id = id * 10 + (c - '0');
  }
  if (!ok || id <= 0) throw AppError::NotFound(std::string("No such ") + what + ".");
  return id;
}

nlohmann::json ObjectBody(const Request& request) {
  auto json = ParseJsonBody(request);
  if (!json.is_object()) {
    throw AppError::BadRequest("The body must be a JSON object.", {{"body", "invalid_type", "expected an object"}});
  }
  return json;
}

std::optional<std::string> SearchQuery(const Request& request, std::size_t max_chars, const char* name) {
  auto text = request.QueryParam(name);
  if (text && (!validate::IsValidUtf8(*text) || validate::HasControlChars(*text, false) ||
               validate::Utf8Length(*text) > max_chars)) {
    throw AppError::BadRequest(
        std::string("The query parameter ") + name + " is invalid.",
        {{name, "invalid", "at most " + std::to_string(max_chars) + " characters of UTF-8 text on one line"}});
  }
  return text;
}

}  // namespace poste::web
