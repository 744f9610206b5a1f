#include "app/config.hpp"

#include <toml++/toml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/config_keys.hpp"
#include "lib/validate/ascii.hpp"

extern char** environ;

namespace poste::app {

namespace {

using config_keys::KeySpec;
using config_keys::Kind;
using config_keys::Problem;
using config_keys::Value;

void Apply(Config& config, const KeySpec& spec, const Value& value, const std::string& source) {
  try {
    spec.apply(config, value);
  } catch (const Problem& problem) {
    throw ConfigError(std::string(spec.key) + ": " + problem.message + " (" + source + ")");
  }
}

std::string UnknownKey(std::string_view key) {
  std::string message = "unknown key \"" + std::string(key) + "\"";
  if (auto suggestion = config_keys::Suggest(key); !suggestion.empty()) {
    message += " (did you mean \"" + std::string(suggestion) + "\"?)";
  }
  return message;
}

std::string_view TomlTypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date or time";
  }
}

// Converts a TOML node to the key's kind; types are strict (no "8" for 8), as the file is typed.
Value FromToml(const toml::node& node, Kind kind) {
  auto mismatch = [&] {
    return Problem{"expected " + std::string(config_keys::KindName(kind)) + ", got " +
                   std::string(TomlTypeName(node.type()))};
  };
  switch (kind) {
    case Kind::kInt:
      if (auto v = node.value_exact<std::int64_t>()) return *v;
      throw mismatch();
    case Kind::kBool:
      if (auto v = node.value_exact<bool>()) return *v;
      throw mismatch();
    case Kind::kString:
      if (auto v = node.value_exact<std::string>()) return *v;
      throw mismatch();
    case Kind::kStringArray: {
      const auto* array = node.as_array();
      if (array == nullptr) throw mismatch();
      std::vector<std::string> items;
      for (const auto& item : *array) {
        auto text = item.value_exact<std::string>();
        if (!text) throw mismatch();
        items.push_back(*text);
      }
      return items;
    }
  }
  throw mismatch();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("config file " + path + ": cannot be read (" + std::strerror(errno) + ")");
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void ApplyFile(Config& config, const std::string& path) {
  std::string text = ReadFile(path);
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigError("config file " + path + ", line " + std::to_string(where.line) + ", column " +
                      std::to_string(where.column) + ": " + std::string(e.description()));
  }
  auto line_of = [&](const toml::node& node) {
    return "config file " + path + ", line " + std::to_string(node.source().begin.line);
  };
  for (const auto& [section_name, section] : root) {
    const auto* table = section.as_table();
    if (table == nullptr) {
      throw ConfigError("config file " + path + ": " + UnknownKey(section_name.str()) + " (line " +
                        std::to_string(section.source().begin.line) + ")");
    }
    for (const auto& [name, node] : *table) {
      std::string key = std::string(section_name.str()) + "." + std::string(name.str());
      const KeySpec* spec = config_keys::Find(key);
      if (spec == nullptr) {
        throw ConfigError("config file " + path + ": " + UnknownKey(key) + " (line " +
                          std::to_string(node.source().begin.line) + ")");
      }
      Value value;
      try {
        value = FromToml(node, spec->kind);
      } catch (const Problem& problem) {
        throw ConfigError(key + ": " + problem.message + " (" + line_of(node) + ")");
      }
      Apply(config, *spec, value, line_of(node));
    }
  }
  config.file = path;
}

void ApplyText(Config& config, const KeySpec& spec, const std::string& text, const std::string& source) {
  Value value;
  try {
    value = config_keys::ParseText(spec.kind, text);
  } catch (const Problem& problem) {
    throw ConfigError(std::string(spec.key) + ": " + problem.message + " (" + source + ")");
  }
  Apply(config, spec, value, source);
}

// POSTE_SERVER__IO_THREADS -> server.io_threads; empty when the name is not of that form.
std::string EnvKey(std::string_view name) {
  if (!name.starts_with("POSTE_")) return {};
  name.remove_prefix(6);
  auto separator = name.find("__");
  if (separator == std::string_view::npos) return {};
  return validate::ascii::ToLower(std::string(name.substr(0, separator)) + "." +
                                  std::string(name.substr(separator + 2)));
}

void ApplyEnvironment(Config& config, const std::map<std::string, std::string>& environment) {
  // POSTE_DATA_DIR is the documented short twin of POSTE_DATA__DIR; both set and different is ambiguous.
  auto short_dir = environment.find("POSTE_DATA_DIR");
  auto long_dir = environment.find("POSTE_DATA__DIR");
  if (short_dir != environment.end() && long_dir != environment.end() && short_dir->second != long_dir->second) {
    throw ConfigError("data.dir: POSTE_DATA_DIR and POSTE_DATA__DIR are both set, to different values");
  }
  if (short_dir != environment.end()) {
    ApplyText(config, *config_keys::Find("data.dir"), short_dir->second, "environment variable POSTE_DATA_DIR");
  }
  for (const auto& [name, text] : environment) {
    std::string key = EnvKey(name);
    if (key.empty()) continue;
    const KeySpec* spec = config_keys::Find(key);
    if (spec == nullptr) throw ConfigError("environment variable " + name + ": " + UnknownKey(key));
    ApplyText(config, *spec, text, "environment variable " + name);
  }
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> environment;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    environment.emplace(text.substr(0, equals), text.substr(equals + 1));
  }
  return environment;
}

}  // namespace

Config LoadConfig(const LoadOptions& options) {
  Config config;
  if (!options.config_path.empty()) {
    ApplyFile(config, options.config_path);
  } else if (!options.default_config_path.empty()) {
    std::error_code ignored;
    if (std::filesystem::exists(options.default_config_path, ignored)) ApplyFile(config, options.default_config_path);
  }
  ApplyEnvironment(config, options.environment ? *options.environment : ProcessEnvironment());
  for (const auto& [key, text] : options.cli_overrides) {
    const KeySpec* spec = config_keys::Find(key);
    if (spec == nullptr) throw ConfigError("command line: " + UnknownKey(key));
    ApplyText(config, *spec, text, "command line");
  }
  return config;
}

std::string DescribeConfig(const Config& config) {
  std::string out = "config_file=\"" + config.file + "\"";
  for (const auto& spec : config_keys::Keys()) {
    out += ' ';
    out += spec.key;
    out += '=';
    out += spec.show(config);
  }
  return out;
}

std::vector<std::string> ConfigKeys() {
  std::vector<std::string> keys;
  for (const auto& spec : config_keys::Keys()) keys.emplace_back(spec.key);
  return keys;
}

std::string ResolvedDatabaseUrl(const Config& config) {
  if (!config.database.url.empty()) return config.database.url;
  return (std::filesystem::path(config.data.dir) / "poste.db").string();
}

}  // namespace poste::app
