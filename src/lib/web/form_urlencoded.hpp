#pragma once
// A strict reader of application/x-www-form-urlencoded bodies (HTML forms posted without JavaScript).
// Stricter than the WHATWG algorithm on purpose: a malformed %-escape, a name or value that is not UTF-8
// after decoding, an empty name, a repeated name and a body beyond the limits are refused instead of
// guessed at, so that what a handler reads is exactly what the client sent. Empty pieces ("a=1&&b=2",
// a trailing '&') are skipped as browsers never send them and they carry nothing.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lib/web/message.hpp"

namespace poste::web {

struct FormLimits {
  std::size_t max_body = 64 * 1024;   // bytes of the encoded body; 413 beyond
  std::size_t max_fields = 64;        // name=value pairs
  std::size_t max_name = 128;         // bytes of a decoded name
  std::size_t max_value = 64 * 1024;  // bytes of a decoded value
};

// Throws AppError: 413 (field "body", code "too_large") beyond max_body; 400 with field "body" and a code
// ("invalid_escape", "invalid_utf8", "too_many_fields", "empty_name", "name_too_long", "value_too_long",
// "duplicate_field") naming the first problem found. Pairs in the order received.
std::vector<std::pair<std::string, std::string>> ParseFormUrlencoded(std::string_view body,
                                                                     const FormLimits& limits = {});

// The same as a map (a repeated name is already refused by the parser).
std::map<std::string, std::string, std::less<>> ParseFormFields(std::string_view body, const FormLimits& limits = {});

// Whether a Content-Type names application/x-www-form-urlencoded (parameters and case ignored).
bool IsFormUrlencoded(const Request& request);

}  // namespace poste::web
