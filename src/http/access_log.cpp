#include "http/access_log.hpp"

#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <string>
#include <thread>

#include "lib/json_escape.hpp"
#include "lib/web/body_source.hpp"

namespace poste::http {

namespace {

// Beyond this much unwritten output (a stuck stdout), lines are dropped rather than growing memory.
constexpr std::size_t kMaxBuffered = 8 * 1024 * 1024;
// What a buffer may keep between writes: a quiet server's lines, not a burst's.
constexpr std::size_t kKeptCapacity = 64 * 1024;

struct Sink {
  std::mutex mu;
  std::condition_variable cv;
  std::string buffer;
  bool stop = false;
  int fd = -1;
  std::thread writer;
};

Sink& TheSink() {
  static Sink sink;
  return sink;
}

std::atomic<bool> g_enabled{false};

void WriteAll(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a closed stdout loses the log, never the server
    done += static_cast<std::size_t>(n);
  }
}

void WriterLoop(Sink& sink) {
  std::string out;
  std::unique_lock lock(sink.mu);
  while (true) {
    sink.cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return sink.stop; });
    out.swap(sink.buffer);
    bool stopping = sink.stop;
    lock.unlock();
    if (!out.empty()) WriteAll(sink.fd, out);
    // Under load 50 ms of lines is ~1 MB; kept, the two buffers would hold that at idle for good (RSS after load).
    if (out.capacity() > kKeptCapacity) {
      std::string().swap(out);
    } else {
      out.clear();
    }
    lock.lock();
    if (stopping && sink.buffer.empty()) return;
  }
}

void AppendInt(std::string& out, std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, end);
}

// "2026-11-21T19:20:30.123Z", the seconds part formatted once per second per thread.
void AppendTimestamp(std::string& out) {
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32];
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  auto second = static_cast<std::time_t>(ms / 1000);
  if (second != cached_second) {
    std::tm tm{};
    gmtime_r(&second, &tm);
    std::strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second = second;
  }
  out += cached;
  int frac = static_cast<int>(ms % 1000);
  out += '.';
  out += static_cast<char>('0' + frac / 100);
  out += static_cast<char>('0' + frac / 10 % 10);
  out += static_cast<char>('0' + frac % 10);
  out += 'Z';
}

// Milliseconds with three decimals, from whole microseconds.
void AppendMillis(std::string& out, double seconds) {
  auto us = static_cast<std::int64_t>(seconds * 1e6);
  AppendInt(out, us / 1000);
  int frac = static_cast<int>(us % 1000);
  out += '.';
  out += static_cast<char>('0' + frac / 100);
  out += static_cast<char>('0' + frac / 10 % 10);
  out += static_cast<char>('0' + frac % 10);
}

}  // namespace

void AccessLog::Start(int fd) {
  Sink& sink = TheSink();
  std::lock_guard lock(sink.mu);
  if (sink.writer.joinable()) return;
  sink.fd = fd;
  sink.stop = false;
  sink.writer = std::thread([&sink] { WriterLoop(sink); });
  g_enabled = true;
}

void AccessLog::Stop() {
  Sink& sink = TheSink();
  g_enabled = false;
  {
    std::lock_guard lock(sink.mu);
    if (!sink.writer.joinable()) return;
    sink.stop = true;
  }
  sink.cv.notify_all();
  sink.writer.join();
}

void LogAccess(const web::Request& request, const web::Response& response, std::string_view route,
               std::string_view request_id, double seconds) {
  if (!g_enabled.load(std::memory_order_relaxed)) return;
  thread_local std::string line;
  line.clear();
  line += R"({"ts":")";
  AppendTimestamp(line);
  line += R"(","level":"info","msg":"request","request_id":)";
  AppendJsonString(line, request_id);
  line += R"(,"method":)";
  AppendJsonString(line, request.method);
  line += R"(,"path":)";
  AppendJsonString(line, request.path);
  line += R"(,"route":)";
  AppendJsonString(line, route);
  line += R"(,"status":)";
  AppendInt(line, response.status);
  line += R"(,"bytes":)";
  // A streamed body (a file, a cached answer) is counted by what it announced.
  const auto bytes = response.stream ? response.stream->Length().value_or(0) : response.body.size();
  AppendInt(line, static_cast<std::int64_t>(bytes));
  line += R"(,"duration_ms":)";
  AppendMillis(line, seconds);
  line += R"(,"remote":)";
  AppendJsonString(line, request.remote_ip);
  line += "}\n";

  Sink& sink = TheSink();
  std::lock_guard lock(sink.mu);
  if (sink.buffer.size() + line.size() <= kMaxBuffered) sink.buffer += line;
}

}  // namespace poste::http
