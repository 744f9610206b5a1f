#include "lib/web/form_urlencoded.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "lib/error.hpp"
#include "lib/validate/text.hpp"

namespace poste::web {

namespace {

AppError Malformed(const std::string& code, const std::string& message) {
  return AppError::BadRequest("The form body is malformed.", {{"body", code, message}});
}

std::string Decode(std::string_view raw, const char* what) {
  auto decoded = PercentDecode(raw, true);
  if (!decoded) throw Malformed("invalid_escape", std::string("a ") + what + " holds a malformed %-escape");
  if (!validate::IsValidUtf8(*decoded)) throw Malformed("invalid_utf8", std::string("a ") + what + " is not UTF-8");
  return std::move(*decoded);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseFormUrlencoded(std::string_view body, const FormLimits& limits) {
  if (body.size() > limits.max_body) {
    throw AppError(ErrorCode::kPayloadTooLarge, "The form body is too large.", {},
                   {{"body", "too_large", "at most " + std::to_string(limits.max_body) + " bytes"}});
  }
  std::vector<std::pair<std::string, std::string>> out;
  std::set<std::string, std::less<>> seen;
  std::string_view rest = body;
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view piece = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (piece.empty()) continue;
    if (out.size() == limits.max_fields) {
      throw Malformed("too_many_fields", "at most " + std::to_string(limits.max_fields) + " fields");
    }
    const auto eq = piece.find('=');
    std::string name = Decode(piece.substr(0, eq), "name");
    std::string value = eq == std::string_view::npos ? std::string() : Decode(piece.substr(eq + 1), "value");
    if (name.empty()) throw Malformed("empty_name", "a field has no name");
    if (name.size() > limits.max_name) throw Malformed("name_too_long", "a field name is too long");
    if (value.size() > limits.max_value) throw Malformed("value_too_long", "the value of " + name + " is too long");
    if (!seen.insert(name).second) throw Malformed("duplicate_field", "the field " + name + " is repeated");
    out.emplace_back(std::move(name), std::move(value));
  }
  return out;
}

std::map<std::string, std::string, std::less<>> ParseFormFields(std::string_view body, const FormLimits& limits) {
  std::map<std::string, std::string, std::less<>> out;
  for (auto& [name, value] : ParseFormUrlencoded(body, limits)) out.emplace(std::move(name), std::move(value));
  return out;
}

bool IsFormUrlencoded(const Request& request) {
  auto type = request.headers.Get("Content-Type");
  if (!type) return false;
  std::string_view media = type->substr(0, type->find(';'));
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  return IEquals(media, "application/x-www-form-urlencoded");
}

}  // namespace poste::web
