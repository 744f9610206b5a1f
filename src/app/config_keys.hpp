#pragma once
// The table of configuration keys: each key's type, how a value is validated and stored, and how it is
// shown in the start-up log. The loader (config.cpp) only finds values and reports where they came from.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "app/config.hpp"

namespace poste::app::config_keys {

enum class Kind { kInt, kBool, kString, kStringArray };
using Value = std::variant<std::int64_t, bool, std::string, std::vector<std::string>>;

// What is wrong with a value, without the key or the source, which the loader adds.
struct Problem {
  std::string message;
};

struct KeySpec {
  std::string_view key;  // "section.name"
  Kind kind;
  void (*apply)(Config&, const Value&);  // validates and stores; throws Problem
  std::string (*show)(const Config&);    // for DescribeConfig; never shows a secret
};

std::span<const KeySpec> Keys();
const KeySpec* Find(std::string_view key);
// The known key closest to a misspelt one, or empty when none is close.
std::string_view Suggest(std::string_view key);

// "an integer", "true or false", "a string", "an array of strings".
std::string_view KindName(Kind kind);
// A value from an environment variable or a flag: integers in decimal, booleans as true/false/1/0/yes/no/on/off,
// arrays comma-separated. Throws Problem.
Value ParseText(Kind kind, std::string_view text);

// Exposed for tests. ParseListen throws Problem for anything but HOST:PORT or [IPV6]:PORT.
void ParseListen(std::string_view text, std::string& host, std::uint16_t& port);
bool IsValidHost(std::string_view host);
// Returns the origin normalised to lower case; throws Problem.
std::string NormalizeOrigin(std::string_view origin);

}  // namespace poste::app::config_keys
