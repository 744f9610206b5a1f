#include "db/database_url.hpp"

#include "lib/error.hpp"

namespace poste::db {
namespace {

constexpr std::string_view kSqlitePrefix = "sqlite://";

bool StartsWith(std::string_view text, std::string_view prefix) { return text.substr(0, prefix.size()) == prefix; }

bool HasQueryParam(std::string_view url, std::string_view name) {
  const auto query = url.find('?');
  if (query == std::string_view::npos) return false;
  std::string_view rest = url.substr(query + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view param = rest.substr(0, amp);
    if (param.substr(0, param.find('=')) == name) return true;
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return false;
}

std::string WithParam(std::string url, std::string_view name, std::string_view value) {
  if (HasQueryParam(url, name)) return url;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url.append(name).append("=").append(value);
  return url;
}

AppError BadUrl(std::string detail) {
  return AppError::Unavailable("The database is not configured correctly.", std::move(detail));
}

}  // namespace

DatabaseTarget ParseDatabaseUrl(std::string_view url) {
  if (StartsWith(url, "postgresql://") || StartsWith(url, "postgres://")) {
    // Without a connect timeout libpq waits for the OS (minutes) when the host silently drops packets.
    std::string location = WithParam(std::string(url), "connect_timeout", "10");
    location = WithParam(std::move(location), "application_name", "poste");
    return {Dialect::kPostgres, std::move(location)};
  }
  if (StartsWith(url, kSqlitePrefix)) url.remove_prefix(kSqlitePrefix.size());
  if (url.empty()) throw BadUrl("database.url is empty: set a SQLite file path or a postgresql:// URL");
  if (url == ":memory:" || StartsWith(url, "file:")) {
    throw BadUrl("database.url '" + std::string(url) +
                 "' is not supported: give a SQLite file path (each pooled connection needs the same file)");
  }
  if (url.find('"') != std::string_view::npos) throw BadUrl("database.url must not contain '\"'");
  return {Dialect::kSqlite, std::string(url)};
}

namespace {
// libpq also takes the password as a query parameter: "?password=...".
std::string RedactPasswordParam(std::string url) {
  const auto query = url.find('?');
  if (query == std::string::npos) return url;
  for (auto pos = query; pos != std::string::npos; pos = url.find('&', pos + 1)) {
    constexpr std::string_view kKey = "password=";
    if (url.compare(pos + 1, kKey.size(), kKey) != 0) continue;
    const auto value = pos + 1 + kKey.size();
    const auto end = url.find('&', value);
    url.replace(value, (end == std::string::npos ? url.size() : end) - value, "***");
  }
  return url;
}
}  // namespace

std::string RedactUrl(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto authority_start = scheme + 3;
  const auto authority_end = url.find_first_of("/?#", authority_start);
  const std::string_view authority = url.substr(authority_start, authority_end - authority_start);
  const auto at = authority.rfind('@');
  const auto colon = at == std::string_view::npos ? std::string_view::npos : authority.substr(0, at).find(':');
  if (colon == std::string_view::npos) return RedactPasswordParam(std::string(url));
  std::string out(url.substr(0, authority_start + colon + 1));
  out += "***";
  out += url.substr(authority_start + at);
  return RedactPasswordParam(std::move(out));
}

}  // namespace poste::db
