#include "app/config_keys.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <initializer_list>

#include "db/database_url.hpp"
#include "lib/mail/sns.hpp"
#include "lib/net/http_url.hpp"
#include "lib/net/target_policy.hpp"
#include "lib/validate/ascii.hpp"

namespace poste::app::config_keys {

namespace {

std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

std::int64_t IntIn(const Value& value, std::int64_t low, std::int64_t high) {
  std::int64_t n = std::get<std::int64_t>(value);
  if (n < low || n > high) {
    throw Problem{"must be between " + std::to_string(low) + " and " + std::to_string(high) + ", got " +
                  std::to_string(n)};
  }
  return n;
}

std::string OneOf(const Value& value, std::initializer_list<std::string_view> allowed) {
  const auto& text = std::get<std::string>(value);
  if (std::find(allowed.begin(), allowed.end(), text) != allowed.end()) return text;
  std::string list;
  for (auto item : allowed) list += (list.empty() ? "" : "|") + std::string(item);
  throw Problem{"expected one of " + list + ", got " + Quote(text)};
}

bool ParsePort(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  if (text.empty() || text.size() > 5) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool IsIpv6(std::string_view text) {
  in6_addr address;
  return inet_pton(AF_INET6, std::string(text).c_str(), &address) == 1;
}

std::string ShowString(const std::string& text) { return Quote(text); }
std::string ShowInt(std::int64_t n) { return std::to_string(n); }
std::string ShowBool(bool b) { return b ? "true" : "false"; }
std::string ShowArray(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& item : items) out += (out.size() > 1 ? "," : "") + Quote(item);
  return out + "]";
}

// clang-format off
// One row per key; `v` is the value already converted to the key's Kind.
#define POSTE_INT(KEY, FIELD, LOW, HIGH)                                                              \
  KeySpec{KEY, Kind::kInt,                                                                            \
          [](Config& c, const Value& v) { c.FIELD = static_cast<decltype(c.FIELD)>(IntIn(v, LOW, HIGH)); }, \
          [](const Config& c) { return ShowInt(static_cast<std::int64_t>(c.FIELD)); }}
#define POSTE_BOOL(KEY, FIELD)                                                                        \
  KeySpec{KEY, Kind::kBool, [](Config& c, const Value& v) { c.FIELD = std::get<bool>(v); },          \
          [](const Config& c) { return ShowBool(c.FIELD); }}
// clang-format on

const KeySpec kKeys[] = {
    {"server.listen", Kind::kString,
     [](Config& c, const Value& v) {
       const auto& text = std::get<std::string>(v);
       ParseListen(text, c.server.host, c.server.port);
       c.server.listen = text;
     },
     [](const Config& c) { return ShowString(c.server.listen); }},
    POSTE_INT("server.io_threads", server.io_threads, 0, 256),
    POSTE_INT("server.blocking_threads", server.blocking_threads, 1, 1024),
    POSTE_INT("server.header_limit_bytes", server.header_limit_bytes, 1024, 1048576),
    POSTE_INT("server.body_limit_bytes", server.body_limit_bytes, 1024, 1073741824),
    POSTE_INT("server.header_timeout_ms", server.header_timeout_ms, 100, 3600000),
    POSTE_INT("server.body_timeout_ms", server.body_timeout_ms, 100, 3600000),
    POSTE_INT("server.keepalive_timeout_ms", server.keepalive_timeout_ms, 100, 3600000),
    POSTE_INT("server.drain_timeout_ms", server.drain_timeout_ms, 0, 3600000),
    {"server.cors_origins", Kind::kStringArray,
     [](Config& c, const Value& v) {
       std::vector<std::string> origins;
       for (const auto& origin : std::get<std::vector<std::string>>(v)) origins.push_back(NormalizeOrigin(origin));
       c.server.cors_origins = std::move(origins);
     },
     [](const Config& c) { return ShowArray(c.server.cors_origins); }},
    POSTE_BOOL("server.gzip", server.gzip),
    POSTE_BOOL("server.access_log", server.access_log),
    POSTE_BOOL("server.secure_cookies", server.secure_cookies),
    POSTE_INT("server.public_cache_bytes", server.public_cache_bytes, 0, 68719476736),
    {"data.dir", Kind::kString,
     [](Config& c, const Value& v) {
       const auto& text = std::get<std::string>(v);
       if (text.empty()) throw Problem{"must not be empty"};
       c.data.dir = text;
     },
     [](const Config& c) { return ShowString(c.data.dir); }},
    {"database.url", Kind::kString,
     [](Config& c, const Value& v) {
       const auto& url = std::get<std::string>(v);
       bool postgres = url.starts_with("postgresql://") || url.starts_with("postgres://");
       bool sqlite = url.starts_with("sqlite://") && url.size() > 9 && url != "sqlite://:memory:";
       if (!url.empty() && !postgres && !sqlite) {
         throw Problem{"expected \"\" (SQLite in data.dir), sqlite://PATH or postgresql://..., got " +
                       Quote(db::RedactUrl(url))};
       }
       c.database.url = url;
     },
     [](const Config& c) { return ShowString(db::RedactUrl(c.database.url)); }},
    POSTE_INT("database.pool_size", database.pool_size, 1, 1024),
    POSTE_INT("jobs.workers", jobs.workers, 0, 256),
    POSTE_INT("jobs.poll_interval_ms", jobs.poll_interval_ms, 10, 3600000),
    POSTE_INT("jobs.lease_ms", jobs.lease_ms, 1000, 86400000),
    POSTE_INT("rate_limit.api_per_ip", rate_limit.api_per_ip, 0, 10000000),
    POSTE_INT("rate_limit.api_per_user", rate_limit.api_per_user, 0, 10000000),
    POSTE_INT("rate_limit.api_per_api_key", rate_limit.api_per_api_key, 0, 10000000),
    POSTE_INT("rate_limit.public_per_ip", rate_limit.public_per_ip, 0, 10000000),
    POSTE_INT("media.max_upload_bytes", media.max_upload_bytes, 1, 68719476736),
    {"webhooks.allow_private_targets", Kind::kStringArray,
     [](Config& c, const Value& v) {
       const auto& entries = std::get<std::vector<std::string>>(v);
       for (const auto& entry : entries) {
         if (!net::TargetPolicy::IsValidEntry(entry)) {
           throw Problem{"expected networks (10.0.0.0/8), addresses (127.0.0.1) or host names, got " + Quote(entry)};
         }
       }
       c.webhooks.allow_private_targets = entries;
     },
     [](const Config& c) { return ShowArray(c.webhooks.allow_private_targets); }},
    {"log.level", Kind::kString,
     [](Config& c, const Value& v) {
       c.log.level = OneOf(v, {"trace", "debug", "info", "warn", "error"});
     },
     [](const Config& c) { return ShowString(c.log.level); }},
    {"log.format", Kind::kString,
     [](Config& c, const Value& v) {
       c.log.format = OneOf(v, {"json", "text"});
     },
     [](const Config& c) { return ShowString(c.log.format); }},
    {"mail.smtp_allow_targets", Kind::kStringArray,
     [](Config& c, const Value& v) {
       const auto& entries = std::get<std::vector<std::string>>(v);
       for (const auto& entry : entries) {
         if (!net::TargetPolicy::IsValidEntry(entry)) {
           throw Problem{"expected networks (127.0.0.0/8), addresses (127.0.0.1) or host names, got " + Quote(entry)};
         }
       }
       c.mail.smtp_allow_targets = entries;
     },
     [](const Config& c) { return ShowArray(c.mail.smtp_allow_targets); }},
    POSTE_INT("mail.max_attempts", mail.max_attempts, 1, 100),
    {"mail.sns_certificate_hosts", Kind::kStringArray,
     [](Config& c, const Value& v) {
       const auto& entries = std::get<std::vector<std::string>>(v);
       for (const auto& entry : entries) {
         if (!mail::IsValidSnsHostEntry(entry)) {
           throw Problem{"expected host names or addresses, optionally with :port, got " + Quote(entry)};
         }
       }
       c.mail.sns_certificate_hosts = entries;
     },
     [](const Config& c) { return ShowArray(c.mail.sns_certificate_hosts); }},
    {"mail.oauth_redirect_url", Kind::kString,
     [](Config& c, const Value& v) {
       const auto& url = std::get<std::string>(v);
       if (!url.empty() && (!net::ParseHttpUrl(url) || url.find('#') != std::string::npos)) {
         throw Problem{"expected \"\" or the absolute http(s) URL of /api/v1/mail/oauth/callback, got " + Quote(url)};
       }
       c.mail.oauth_redirect_url = url;
     },
     [](const Config& c) { return ShowString(c.mail.oauth_redirect_url); }},
    {"mail.oauth_allow_targets", Kind::kStringArray,
     [](Config& c, const Value& v) {
       const auto& entries = std::get<std::vector<std::string>>(v);
       for (const auto& entry : entries) {
         if (!net::TargetPolicy::IsValidEntry(entry)) {
           throw Problem{"expected networks (127.0.0.0/8), addresses (127.0.0.1) or host names, got " + Quote(entry)};
         }
       }
       c.mail.oauth_allow_targets = entries;
     },
     [](const Config& c) { return ShowArray(c.mail.oauth_allow_targets); }},
    {"mail.tls_ca_file", Kind::kString,
     [](Config& c, const Value& v) {
       const auto& path = std::get<std::string>(v);
       if (!path.empty() && ::access(path.c_str(), R_OK) != 0) {
         throw Problem{"expected \"\" or a readable PEM file of CA certificates, got " + Quote(path) + " (" +
                       std::strerror(errno) + ")"};
       }
       c.mail.tls_ca_file = path;
     },
     [](const Config& c) { return ShowString(c.mail.tls_ca_file); }},
    POSTE_INT("inbox.sync_interval_seconds", inbox.sync_interval_seconds, 10, 86400),
    POSTE_INT("inbox.max_message_bytes", inbox.max_message_bytes, 65536, 1073741824),
    POSTE_INT("inbox.max_attachment_bytes", inbox.max_attachment_bytes, 1024, 1073741824),
    POSTE_INT("inbox.max_messages_per_sync", inbox.max_messages_per_sync, 1, 100000),
    {"inbox.allow_private_hosts", Kind::kStringArray,
     [](Config& c, const Value& v) {
       const auto& entries = std::get<std::vector<std::string>>(v);
       for (const auto& entry : entries) {
         if (!net::TargetPolicy::IsValidEntry(entry)) {
           throw Problem{"expected networks (10.0.0.0/8), addresses (127.0.0.1) or host names, got " + Quote(entry)};
         }
       }
       c.inbox.allow_private_hosts = entries;
     },
     [](const Config& c) { return ShowArray(c.inbox.allow_private_hosts); }},
};

#undef POSTE_INT
#undef POSTE_BOOL

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::span<const KeySpec> Keys() { return kKeys; }

const KeySpec* Find(std::string_view key) {
  for (const auto& spec : kKeys) {
    if (spec.key == key) return &spec;
  }
  return nullptr;
}

std::string_view Suggest(std::string_view key) {
  std::string_view best;
  std::size_t best_distance = 3;  // further than two edits is a different key, not a typo
  for (const auto& spec : kKeys) {
    std::size_t distance = EditDistance(key, spec.key);
    if (distance < best_distance) {
      best = spec.key;
      best_distance = distance;
    }
  }
  return best;
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kInt:
      return "an integer";
    case Kind::kBool:
      return "true or false";
    case Kind::kString:
      return "a string";
    case Kind::kStringArray:
      return "an array of strings";
  }
  return "a value";
}

Value ParseText(Kind kind, std::string_view text) {
  switch (kind) {
    case Kind::kInt: {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
        throw Problem{"expected an integer, got " + Quote(text)};
      }
      return n;
    }
    case Kind::kBool: {
      std::string lower = validate::ascii::ToLower(text);
      if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
      if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
      throw Problem{"expected true or false, got " + Quote(text)};
    }
    case Kind::kString:
      return std::string(text);
    case Kind::kStringArray: {
      std::vector<std::string> items;
      std::size_t start = 0;
      while (start <= text.size()) {
        std::size_t comma = std::min(text.find(',', start), text.size());
        std::string_view item = text.substr(start, comma - start);
        while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
        while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
        if (!item.empty()) items.emplace_back(item);
        start = comma + 1;
      }
      return items;
    }
  }
  return std::string(text);
}

void ParseListen(std::string_view text, std::string& host, std::uint16_t& port) {
  const Problem expected{"expected HOST:PORT, got " + Quote(text)};
  std::string_view host_part;
  std::string_view port_part;
  if (text.starts_with('[')) {
    auto close = text.find("]:");
    if (close == std::string_view::npos) throw expected;
    host_part = text.substr(1, close - 1);
    port_part = text.substr(close + 2);
    if (!IsIpv6(host_part)) throw Problem{"invalid IPv6 address " + Quote(host_part) + " in " + Quote(text)};
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || colon == 0) throw expected;
    host_part = text.substr(0, colon);
    port_part = text.substr(colon + 1);
    if (host_part.find(':') != std::string_view::npos) {
      throw Problem{"expected HOST:PORT with an IPv6 host in brackets (e.g. [::1]:8080), got " + Quote(text)};
    }
    if (!IsValidHost(host_part)) throw Problem{"invalid host " + Quote(host_part) + " in " + Quote(text)};
  }
  std::uint16_t parsed = 0;
  if (!ParsePort(port_part, parsed)) {
    throw Problem{"port must be a number between 0 and 65535, got " + Quote(port_part) + " in " + Quote(text)};
  }
  host = std::string(host_part);
  port = parsed;
}

bool IsValidHost(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  in_addr v4;
  if (inet_pton(AF_INET, std::string(host).c_str(), &v4) == 1) return true;
  // Digits and dots that are not an IPv4 address are a typo, not a hostname.
  if (host.find_first_not_of("0123456789.") == std::string_view::npos) return false;
  // RFC 1123 labels: letters, digits and hyphens, 1 to 63 long, no hyphen at either end.
  std::size_t start = 0;
  while (start <= host.size()) {
    std::size_t dot = std::min(host.find('.', start), host.size());
    std::string_view label = host.substr(start, dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      if (!ok) return false;
    }
    start = dot + 1;
  }
  return true;
}

std::string NormalizeOrigin(std::string_view origin) {
  const Problem expected{"expected an origin like https://example.com (scheme, host and optional port, no path), got " +
                         Quote(origin)};
  // Browsers send the Origin header in lower case, and the pipeline compares exactly.
  std::string lower = validate::ascii::ToLower(origin);
  std::string_view rest = lower;
  if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else {
    throw expected;
  }
  std::string_view host = rest;
  std::string_view port;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos || !IsIpv6(rest.substr(1, close - 1))) throw expected;
    host = {};
    port = rest.substr(close + 1);
  } else if (auto colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon);
  }
  if (!host.empty() && !IsValidHost(host)) throw expected;
  if (host.empty() && !rest.starts_with('[')) throw expected;
  std::uint16_t number = 0;
  if (!port.empty() && (!port.starts_with(':') || !ParsePort(port.substr(1), number) || number == 0)) throw expected;
  return lower;
}

}  // namespace poste::app::config_keys
