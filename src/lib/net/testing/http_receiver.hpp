#pragma once
// For tests only (header-only, never linked into the server): a real HTTP/1.1 receiver on a loopback
// address, run by a thread of the test process. It records each request and answers from a script of
// responses, then from a handler when one is set (stand-ins that check requests and answer like a real
// API), then 200 "ok"; it closes the connection after each answer. Enough HTTP for libcurl's requests:
// a request line, headers, and a Content-Length body.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace poste::net::testing {

struct ReceivedRequest {
  std::string method;
  std::string target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

struct ScriptedResponse {
  ScriptedResponse(int status_ = 200, std::string body_ = "ok",
                   std::vector<std::pair<std::string, std::string>> headers_ = {},
                   std::chrono::milliseconds delay_ = std::chrono::milliseconds(0))
      : status(status_), body(std::move(body_)), headers(std::move(headers_)), delay(delay_) {}
  int status;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay;  // before answering (timeouts)
};

class HttpReceiver {
 public:
  // "127.0.0.1" or "::1"; port 0 picks a free one.
  explicit HttpReceiver(const std::string& address = "127.0.0.1") {
    const bool v6 = address.find(':') != std::string::npos;
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket");
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      ::inet_pton(AF_INET6, address.c_str(), &a.sin6_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
      socklen_t len = sizeof a;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
      port_ = ntohs(a.sin6_port);
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
      socklen_t len = sizeof a;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
      port_ = ntohs(a.sin_port);
    }
    if (::listen(fd_, 16) != 0) throw std::runtime_error("listen");
    thread_ = std::thread([this] { Loop(); });
  }
  ~HttpReceiver() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  HttpReceiver(const HttpReceiver&) = delete;
  HttpReceiver& operator=(const HttpReceiver&) = delete;

  std::uint16_t port() const { return port_; }

  // Answers the next requests in order; once the script is used up, 200 "ok".
  void Script(std::vector<ScriptedResponse> responses) {
    std::lock_guard lock(mu_);
    for (auto& r : responses) script_.push_back(std::move(r));
  }
  // Answers every request the script does not: called on the receiver's thread, one request at a time.
  using Handler = std::function<ScriptedResponse(const ReceivedRequest&)>;
  void Handle(Handler handler) {
    std::lock_guard lock(mu_);
    handler_ = std::move(handler);
  }
  std::vector<ReceivedRequest> Requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::size_t Count() {
    std::lock_guard lock(mu_);
    return requests_.size();
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      Serve(client);
      ::close(client);
    }
  }

  // Reads until the body is complete, the peer closes, or 5 s pass.
  void Serve(int client) {
    std::string data;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    ReceivedRequest request;
    std::size_t header_end = std::string::npos, length = 0;
    char buffer[4096];
    while (std::chrono::steady_clock::now() < deadline && !stop_) {
      pollfd p{client, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const auto n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      data.append(buffer, static_cast<std::size_t>(n));
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end == std::string::npos) continue;
        Parse(data.substr(0, header_end), request);
        auto it = request.headers.find("content-length");
        length = it == request.headers.end() ? 0 : std::stoul(it->second);
      }
      if (data.size() >= header_end + 4 + length) break;
    }
    if (header_end == std::string::npos) return;
    request.body = data.substr(header_end + 4, length);
    ScriptedResponse response;
    Handler handler;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      if (!script_.empty()) {
        response = std::move(script_.front());
        script_.pop_front();
      } else {
        handler = handler_;
      }
    }
    if (handler) response = handler(request);
    if (response.delay.count() > 0) std::this_thread::sleep_for(response.delay);
    std::string out = "HTTP/1.1 " + std::to_string(response.status) +
                      " Scripted\r\nContent-Length: " + std::to_string(response.body.size()) +
                      "\r\nConnection: close\r\n";
    for (const auto& [k, v] : response.headers) out += k + ": " + v + "\r\n";
    out += "\r\n" + response.body;
    std::size_t sent = 0;
    while (sent < out.size()) {
      const auto n = ::send(client, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
  }

  static void Parse(const std::string& head, ReceivedRequest& request) {
    std::size_t line_end = head.find("\r\n");
    const std::string first = head.substr(0, line_end);
    const auto sp1 = first.find(' '), sp2 = first.rfind(' ');
    request.method = first.substr(0, sp1);
    request.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    while (line_end != std::string::npos) {
      const auto start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      request.headers[name] = value;
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::deque<ScriptedResponse> script_;
  Handler handler_;
  std::vector<ReceivedRequest> requests_;
};

}  // namespace poste::net::testing
