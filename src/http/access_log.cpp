#include "http/access_log.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

#include "lib/json_escape.hpp"

namespace poste::http {

namespace {

// "2026-11-21T19:20:30.123Z", with the seconds part formatted once per second per thread.
void AppendTimestamp(std::string& out) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32];
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t second = static_cast<std::time_t>(ms / 1000);
  if (second != cached_second) {
    std::tm tm{};
    gmtime_r(&second, &tm);
    std::strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = second;
  }
  out += cached;
  out += fmt::format(".{:03d}Z", static_cast<int>(ms % 1000));
}

std::shared_ptr<spdlog::logger> AccessLogger() {
  // The app registers "access" with a "%v" pattern; without it (tests) lines go nowhere.
  static std::shared_ptr<spdlog::logger> logger = spdlog::get("access");
  return logger;
}
}  // namespace

void LogAccess(const web::Request& request, const web::Response& response, std::string_view route,
               std::string_view request_id, double seconds) {
  auto logger = AccessLogger();
  if (!logger || !logger->should_log(spdlog::level::info)) return;
  std::string line;
  line.reserve(256);
  line += "{\"ts\":\"";
  AppendTimestamp(line);
  line += "\",\"level\":\"info\",\"msg\":\"request\",\"request_id\":";
  AppendJsonString(line, request_id);
  line += ",\"method\":";
  AppendJsonString(line, request.method);
  line += ",\"path\":";
  AppendJsonString(line, request.path);
  line += ",\"route\":";
  AppendJsonString(line, route);
  line += fmt::format(",\"status\":{},\"bytes\":{},\"duration_ms\":{:.3f},\"remote\":", response.status,
                      response.body.size(), seconds * 1000.0);
  AppendJsonString(line, request.remote_ip);
  line += '}';
  logger->info(line);
}

}  // namespace poste::http
