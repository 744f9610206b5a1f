#pragma once
// The HTTP/1.1 server: an acceptor and one coroutine per connection, connections spread over one io_context
// per I/O thread.
// Beast stays inside server.cpp; this header is cheap to include.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace poste::http {

class Pipeline;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port (see Server::Port)
  std::size_t io_threads = 1;
  std::size_t header_limit = 16 * 1024;             // request line + headers; 431 beyond
  std::chrono::milliseconds header_timeout{10000};  // from a request's first byte to its last header; 408
  std::chrono::milliseconds body_timeout{30000};    // to read a body, or to write a response
  std::chrono::milliseconds keepalive_timeout{60000};
  std::chrono::milliseconds drain_timeout{10000};  // how long in-flight requests may finish after SIGTERM
};

class Server {
 public:
  Server(ServerOptions options, Pipeline& pipeline);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens; throws std::runtime_error naming the address on failure.
  void Listen();
  std::uint16_t Port() const;
  // Serves until a drain started by SIGINT/SIGTERM or Shutdown() has finished; returns true when every
  // connection closed before the drain deadline.
  bool Run();
  // Thread-safe: stop accepting, let in-flight requests finish, close idle connections.
  void Shutdown();
  std::size_t OpenConnections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace poste::http
