#pragma once
// Process-wide logging: the default logger (JSON lines or text) and the "access" logger.
#include <string>

namespace poste::app {

// level: trace|debug|info|warn|error; format: json|text. Logs go to stderr, access lines to stdout.
void SetupLogging(const std::string& level, const std::string& format, bool access_log);

}  // namespace poste::app
