#pragma once
// One JSON line per request. Lines are appended to a shared buffer that a background thread writes out
// every 50 ms with one write(2): a per-line queue hand-off (spdlog's async logger signals a condition
// variable per line) cost more than the rest of a small request. Until Start(), lines go nowhere.
#include <string_view>

#include "lib/web/message.hpp"

namespace poste::http {

class AccessLog {
 public:
  // Starts writing to fd (not owned); Stop() writes what is buffered and joins the writer thread.
  static void Start(int fd);
  static void Stop();
};

void LogAccess(const web::Request& request, const web::Response& response, std::string_view route,
               std::string_view request_id, double seconds);

}  // namespace poste::http
