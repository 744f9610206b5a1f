#pragma once
// Process-wide logging: the default logger (JSON lines or text) on stderr. The access log (stdout) is
// http::AccessLog.
#include <string>

namespace poste::app {

// level: trace|debug|info|warn|error; format: json|text.
void SetupLogging(const std::string& level, const std::string& format);

}  // namespace poste::app
