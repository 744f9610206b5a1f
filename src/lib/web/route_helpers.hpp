#pragma once
// Small pieces every module's routes file needs: joining middleware lists, JSON text that never throws on
// invalid UTF-8, the site that the site-access middleware resolved, a numeric id from the path, a JSON
// object body and a search parameter. One copy here instead of one per module.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "lib/json_dump.hpp"
#include "lib/web/route.hpp"

namespace poste::web {

inline std::vector<Middleware> Concat(std::vector<Middleware> a, const std::vector<Middleware>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Compact JSON; invalid UTF-8 in strings is replaced rather than thrown.
inline std::string Dump(const nlohmann::json& j) { return DumpJson(j); }

// ctx.site_id as set by the site-access middleware; a route registered without it is a wiring bug (500).
std::int64_t SiteId(const RequestContext& ctx);

// The path parameter `name` as a positive id; anything else names nothing: 404 "No such <what>.".
std::int64_t PathId(const RequestContext& ctx, const char* name, const char* what);

// The request's JSON body, which must be an object (400 otherwise).
nlohmann::json ObjectBody(const Request& request);

// A list's free-text search parameter (`name`, "q" by default), percent-decoded: nullopt when absent; 400 with
// the parameter as field unless it is valid UTF-8 on one line (no control characters) of at most max_chars
// characters.
std::optional<std::string> SearchQuery(const Request& request, std::size_t max_chars, const char* name = "q");

// A list answer's JSON: {"items": [to_json(item), ...], "next_cursor": the cursor as a string, or null}.
inline nlohmann::json CursorJson(const std::optional<std::string>& cursor) {
  return cursor ? nlohmann::json(*cursor) : nlohmann::json();
}
inline nlohmann::json CursorJson(const std::optional<std::int64_t>& cursor) {
  return cursor ? nlohmann::json(std::to_string(*cursor)) : nlohmann::json();
}
template <class Items, class ToJson>
nlohmann::json ItemsJson(const Items& items, ToJson&& to_json) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& item : items) out.push_back(to_json(item));
  return out;
}
template <class Items, class ToJson, class Cursor>
nlohmann::json PageJson(const Items& items, ToJson&& to_json, const Cursor& next_cursor) {
  return {{"items", ItemsJson(items, to_json)}, {"next_cursor", CursorJson(next_cursor)}};
}

}  // namespace poste::web
