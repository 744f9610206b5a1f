#include "app/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "lib/json_escape.hpp"

namespace poste::app {

namespace {

// %j: the message as a JSON string, so a log line stays valid JSON whatever the message holds.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string out;
    AppendJsonString(out, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(out.data(), out.data() + out.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JsonMessageFlag>(); }
};

}  // namespace

void SetupLogging(const std::string& level, const std::string& format) {
  // Every slot of the queue is built up front (about 400 bytes each): 256 keep 0.1 MB resident where 8,192
  // kept 3.3 MB (idle RSS, bench/RESULTS.md). Application messages are few (the access log has its own
  // writer); when a burst fills the queue, callers wait for the logging thread (block) rather than lose lines.
  spdlog::init_thread_pool(256, 1);
  auto err_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::async_logger>("poste", err_sink, spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::block);
  if (format == "json") {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<JsonMessageFlag>('j').set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","msg":%j})");
    logger->set_formatter(std::move(formatter));
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

}  // namespace poste::app
