#pragma once
// Start-up configuration. Sources, in increasing priority: defaults < TOML file < POSTE_SECTION__KEY
// environment variables < command-line flags. Every key is optional; poste.example.toml documents each one.
// Anything invalid stops start-up with a ConfigError naming the key, the problem and where the value came from.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace poste::app {

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";  // as given; host and port below are parsed from it
  std::string host = "127.0.0.1";         // IPv6 without brackets
  std::uint16_t port = 8080;              // 0: any free port
  std::size_t io_threads = 0;             // 0: one per core
  std::size_t blocking_threads = 16;
  std::size_t header_limit_bytes = 16384;
  std::size_t body_limit_bytes = 1048576;
  std::int64_t header_timeout_ms = 10000;
  std::int64_t body_timeout_ms = 30000;
  std::int64_t keepalive_timeout_ms = 60000;
  std::int64_t drain_timeout_ms = 10000;
  std::vector<std::string> cors_origins;  // exact origins, e.g. "https://example.com"
  bool gzip = true;
  bool access_log = true;
  bool secure_cookies = false;  // Secure on session cookies: set when clients reach Poste over HTTPS
  std::size_t public_cache_bytes = 64 * 1024 * 1024;  // ready-bytes cache of public reads; 0: off
};

struct DataConfig {
  std::string dir = "./data";
};

struct DatabaseConfig {
  std::string url;  // "": SQLite at <data.dir>/poste.db; "postgresql://..." or "postgres://...": PostgreSQL
  std::size_t pool_size = 8;
};

struct JobsConfig {
  std::size_t workers = 2;  // 0: this instance runs no jobs
  std::int64_t poll_interval_ms = 500;
  std::int64_t lease_ms = 60000;
};

// Requests a minute per bucket (0: no limit), for the authenticated API (/api/v1 outside sign-in).
struct RateLimitConfig {
  std::int64_t api_per_ip = 600;
  std::int64_t api_per_user = 1200;
  std::int64_t api_per_api_key = 1200;
  std::int64_t public_per_ip = 1200;  // the anonymous public read API (/api/v1/public), per client IP
};

// The media library (uploads under <data.dir>/media).
struct MediaConfig {
  std::uint64_t max_upload_bytes = 104857600;  // 100 MiB; larger uploads are refused with 413
};

// Webhook deliveries. Targets must be public addresses (the SSRF guard) unless listed here: networks
// ("10.0.0.0/8"), addresses ("127.0.0.1") or host names ("hooks.intranet.example").
struct WebhooksConfig {
  std::vector<std::string> allow_private_targets;
};

// Sending mail (issue 5). SMTP accounts (and Gmail / Outlook accounts with their own smtp_host) may reach
// public and private networks (a relay on the LAN is normal for self-hosters) but not loopback, link-local
// (cloud metadata) or other special addresses unless listed here: networks ("127.0.0.0/8"), addresses
// ("127.0.0.1") or host names ("relay.internal").
struct MailConfig {
  std::vector<std::string> smtp_allow_targets;
  std::int64_t max_attempts = 6;  // sends of one message before a temporary failure becomes final
  // bounces: hosts ("host" or "host:port") SNS certificate / confirmation URLs may name besides
  // sns.<region>.amazonaws.com over https (a stand-in for tests; http allowed for them).
  std::vector<std::string> sns_certificate_hosts;
  // oauth: the public URL of GET /api/v1/mail/oauth/callback, registered with the providers as the redirect
  // URI ("": connecting Gmail / Outlook accounts through the browser is off).
  std::string oauth_redirect_url;
  // oauth: token endpoints (an account's token_url) must be public addresses unless listed here (an identity
  // provider on the LAN, a test stand-in): networks, addresses or host names.
  std::vector<std::string> oauth_allow_targets;
  // dkim-tls: a PEM file of CA certificates that SMTP servers (accounts) and IMAP servers (the inbox) may be
  // signed by besides the system's CA directory, for a private CA ("": the system's store only).
  std::string tls_ca_file;
};

// The inbox (issue 5): IMAP accounts synced periodically. IMAP hosts must be public addresses (the SSRF guard)
// unless listed in allow_private_hosts: networks ("10.0.0.0/8"), addresses ("127.0.0.1") or host names.
struct InboxConfig {
  std::int64_t sync_interval_seconds = 300;
  std::uint64_t max_message_bytes = 52428800;     // larger messages keep their headers only
  std::uint64_t max_attachment_bytes = 26214400;  // larger attachments are listed, not kept
  std::int64_t max_messages_per_sync = 500;
  std::vector<std::string> allow_private_hosts;
};

struct LogConfig {
  std::string level = "info";   // trace|debug|info|warn|error
  std::string format = "json";  // json|text
};

struct Config {
  std::string file;  // the TOML file that was read; empty when none
  ServerConfig server;
  DataConfig data;
  DatabaseConfig database;
  JobsConfig jobs;
  RateLimitConfig rate_limit;
  MediaConfig media;
  WebhooksConfig webhooks;
  MailConfig mail;
  InboxConfig inbox;
  LogConfig log;
};

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LoadOptions {
  // The file given with --config; it must exist. Empty: ./poste.toml (default_config_path) if present.
  std::string config_path;
  std::string default_config_path = "poste.toml";
  // Environment variables; nullopt reads the process environment.
  std::optional<std::map<std::string, std::string>> environment;
  // Command-line flags by key, e.g. {"server.listen", "0.0.0.0:80"}, {"data.dir", "/srv/poste"}.
  std::map<std::string, std::string> cli_overrides;
};

// Throws ConfigError.
Config LoadConfig(const LoadOptions& options);

// database.url, or the SQLite file <data.dir>/poste.db when it is empty.
std::string ResolvedDatabaseUrl(const Config& config);

// One line of key=value pairs for the start-up log; the database password is redacted.
std::string DescribeConfig(const Config& config);

// Every key LoadConfig accepts ("server.listen", ...), in documentation order.
std::vector<std::string> ConfigKeys();

}  // namespace poste::app
