#include "http/server.hpp"

#include <utility>  // before Asio: Boost 1.74 + g++ 12 coroutines need std::exchange

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <atomic>
#include <charconv>
#include <ctime>
#include <limits>
#include <mutex>
#include <span>
#include <stdexcept>
#include <thread>
#include <unordered_set>
#include <vector>

#include "http/connection.hpp"
#include "http/pipeline.hpp"
#include "lib/error.hpp"
#include "lib/web/body_source.hpp"

namespace poste::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

// One "Date" header value per second per thread.
const std::string& HttpDate() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    char buf[64];
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached.assign(buf);
    cached_second = now;
  }
  return cached;
}

void AppendNumber(std::string& out, std::uint64_t value) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, end);
}

}  // namespace

struct Server::Impl {
  Impl(ServerOptions o, Pipeline& p)
      : options(std::move(o)),
        pipeline(p),
        contexts(MakeContexts(options.io_threads)),
        acceptor(*contexts.front()),
        signals(*contexts.front(), SIGINT, SIGTERM),
        drain_timer(*contexts.front()) {}

  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(std::size_t threads) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
      out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }
  void StopAll() {
    for (auto& c : contexts) c->stop();
  }

  asio::awaitable<void> Accept();
  asio::awaitable<void> Serve(std::shared_ptr<Connection> conn);
  // Writes both buffers (the second may be empty); false when the client went away or stalled.
  asio::awaitable<bool> Write(Connection& conn, std::array<asio::const_buffer, 2> buffers);
  asio::awaitable<bool> WriteResponse(Connection& conn, web::Response&& response, bool head, bool keep_alive,
                                      unsigned version);
  // A request of a stream_body route, from its header on; returns whether the connection can go on.
  asio::awaitable<bool> ServeStreamed(std::shared_ptr<Connection> conn, beast::flat_buffer& buffer,
                                      bhttp::request_parser<bhttp::string_body>& header_parser, web::Request request,
                                      web::Match match, std::size_t limit);
  void BeginDrain();
  void Forget(const std::shared_ptr<Connection>& conn);

  ServerOptions options;
  Pipeline& pipeline;
  // One io_context per I/O thread, each run by its own thread: a connection lives on one of them, so its
  // handlers need no strand and never wake another thread. The first also holds the acceptor, the signals and
  // the drain timer.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::size_t next_context = 0;  // round robin, touched by Accept only
  tcp::acceptor acceptor;
  asio::signal_set signals;
  asio::steady_timer drain_timer;
  std::atomic<bool> draining{false};
  std::atomic<bool> drained_cleanly{true};

  mutable std::mutex mu;
  std::unordered_set<std::shared_ptr<Connection>> connections;
};

Server::Server(ServerOptions options, Pipeline& pipeline)
    : impl_(std::make_unique<Impl>(std::move(options), pipeline)) {}

Server::~Server() = default;

void Server::Listen() {
  auto& o = impl_->options;
  error_code ec;
  auto address = asio::ip::make_address(o.host == "localhost" ? "127.0.0.1" : o.host, ec);
  if (ec) throw std::runtime_error("server.listen: cannot use host \"" + o.host + "\": " + ec.message());
  tcp::endpoint endpoint(address, o.port);
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
  }
}

std::uint16_t Server::Port() const { return impl_->acceptor.local_endpoint().port(); }

std::size_t Server::OpenConnections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections.size();
}

bool Server::Run() {
  auto& impl = *impl_;
  impl.signals.async_wait([&impl](error_code ec, int) {
    if (!ec) impl.BeginDrain();
  });
  auto& main = *impl.contexts.front();
  asio::co_spawn(main, impl.Accept(), asio::detached);
  // Every context runs until the drain stops them all (StopAll): one without connections must not return.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
  for (auto& ctx : impl.contexts) guards.push_back(asio::make_work_guard(*ctx));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl.contexts.size(); ++i) {
    threads.emplace_back([ctx = impl.contexts[i].get()] { ctx->run(); });
  }
  main.run();
  impl.StopAll();
  for (auto& t : threads) t.join();
  return impl.drained_cleanly.load();
}

void Server::Shutdown() {
  asio::post(*impl_->contexts.front(), [impl = impl_.get()] { impl->BeginDrain(); });
}

void Server::Impl::BeginDrain() {
  if (draining.exchange(true)) return;
  spdlog::info("draining: no new connections, finishing in-flight requests (up to {} ms)",
               options.drain_timeout.count());
  error_code ignored;
  acceptor.close(ignored);
  signals.cancel(ignored);
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(mu);
    open.assign(connections.begin(), connections.end());
  }
  if (open.empty()) {
    StopAll();
    return;
  }
  for (auto& conn : open) {
    asio::post(conn->socket.get_executor(), [conn] {
      error_code ignored;
      if (conn->idle) conn->socket.cancel(ignored);
    });
  }
  drain_timer.expires_after(options.drain_timeout);
  drain_timer.async_wait([this](error_code ec) {
    if (ec) return;
    spdlog::warn("drain deadline passed with {} connection(s) open; closing them", connections.size());
    drained_cleanly = false;
    StopAll();
  });
}

void Server::Impl::Forget(const std::shared_ptr<Connection>& conn) {
  bool last;
  {
    std::lock_guard lock(mu);
    connections.erase(conn);
    last = connections.empty();
  }
  if (last && draining) {
    asio::post(*contexts.front(), [this] {
      drain_timer.cancel();
      StopAll();
    });
  }
}

asio::awaitable<void> Server::Impl::Accept() {
  for (;;) {
    tcp::socket socket(*contexts[next_context++ % contexts.size()]);
    error_code ec;
    co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || draining) co_return;
    if (ec) {
      // Out of descriptors or a reset before accept: note it, breathe, go on.
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(*contexts.front(), std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    auto conn = std::make_shared<Connection>(std::move(socket));
    conn->socket.set_option(tcp::no_delay(true), ec);
    // Non-blocking for the synchronous attempts (a whole header already read, a response the socket takes at
    // once); the asynchronous operations do not mind.
    conn->socket.non_blocking(true, ec);
    if (auto remote = conn->socket.remote_endpoint(ec); !ec) conn->remote_ip = remote.address().to_string();
    {
      std::lock_guard lock(mu);
      connections.insert(conn);
    }
    auto ex = conn->socket.get_executor();
    asio::co_spawn(ex, Serve(conn), [this, conn](std::exception_ptr e) {
      if (e) {
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("connection ended by an exception: {}", ex.what());
        }
      }
      error_code ignored;
      conn->StopTimer();
      conn->socket.close(ignored);
      Forget(conn);
    });
  }
}

asio::awaitable<bool> Server::Impl::Write(Connection& conn, std::array<asio::const_buffer, 2> buffers) {
  // First what the socket takes at once (usually everything): no timer, no suspension. The rest waits for
  // room under the body timeout.
  error_code ec;
  std::size_t written = conn.socket.write_some(buffers, ec);
  if (ec && ec != asio::error::would_block && ec != asio::error::try_again) co_return false;
  for (auto& b : buffers) {
    const std::size_t n = std::min(written, b.size());
    b += n;
    written -= n;
  }
  if (buffers[0].size() + buffers[1].size() == 0) co_return true;
  conn.Arm(options.body_timeout);
  co_await asio::async_write(conn.socket, buffers, asio::redirect_error(asio::use_awaitable, ec));
  conn.Disarm();
  co_return !ec;
}

asio::awaitable<bool> Server::Impl::WriteResponse(Connection& conn, web::Response&& response, bool head,
                                                  bool keep_alive, unsigned version) {
  // The head is written by hand into a buffer the connection reuses: Beast's fields would allocate a node
  // per header on every response.
  std::string& out = conn.head;
  out.clear();
  auto status = static_cast<unsigned>(response.status);
  out += "HTTP/1.1 ";
  AppendNumber(out, status);
  out += ' ';
  auto reason = bhttp::obsolete_reason(bhttp::int_to_status(status));
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& [name, value] : response.headers.All()) {
    // Header values come from our own code, but a CR or LF would split the response: never send one.
    if (name.find_first_of("\r\n:") != std::string::npos || value.find_first_of("\r\n") != std::string::npos) {
      spdlog::error("dropped response header {} with a line break", name);
      continue;
    }
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "Date: ";
  out += HttpDate();
  out += "\r\n";
  bool no_body_status = (status >= 100 && status < 200) || status == 204 || status == 304;
  const bool streamed = response.stream != nullptr;
  if (!no_body_status) {
    out += "Content-Length: ";
    AppendNumber(out, streamed ? response.stream->Length().value_or(0) : response.body.size());
    out += "\r\n";
  }
  if (!keep_alive) {
    out += "Connection: close\r\n";
  } else if (version == 10) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
  std::array<asio::const_buffer, 2> buffers{asio::buffer(out), asio::const_buffer()};
  const bool send_body = !head && !no_body_status;
  std::optional<std::string_view> in_memory;
  if (streamed && send_body) in_memory = response.stream->InMemory();
  if (send_body && !streamed) buffers[1] = asio::buffer(response.body);
  if (in_memory) buffers[1] = asio::buffer(in_memory->data(), in_memory->size());
  if (!co_await Write(conn, buffers)) co_return false;
  if (!streamed || !send_body || in_memory) co_return true;
  // A streamed body (a file): chunk by chunk, each write under the body timeout. A source that fails or ends
  // early cannot keep the Content-Length promise: the connection ends.
  std::uint64_t left = response.stream->Length().value_or(0);
  std::vector<char> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(left, 64 * 1024)));
  while (left > 0) {
    std::size_t n = 0;
    try {
      n = co_await response.stream->Read(std::span<char>(chunk.data(), std::min<std::uint64_t>(chunk.size(), left)));
    } catch (const std::exception& e) {
      spdlog::error("streaming a response body failed: {}", e.what());
      co_return false;
    }
    if (n == 0) co_return false;
    if (!co_await Write(conn, std::array<asio::const_buffer, 2>{asio::buffer(chunk.data(), n), {}})) co_return false;
    left -= n;
  }
  co_return true;
}

asio::awaitable<bool> Server::Impl::ServeStreamed(std::shared_ptr<Connection> conn, beast::flat_buffer& buffer,
                                                  bhttp::request_parser<bhttp::string_body>& header_parser,
                                                  web::Request request, web::Match match, std::size_t limit) {
  const auto& header = header_parser.get();
  const unsigned version = header.version();
  const bool client_keep_alive = header.keep_alive();
  auto expect = header.find(bhttp::field::expect);
  const bool send_continue = expect != header.end() && beast::iequals(expect->value(), "100-continue");
  for (const auto& field : header) request.headers.Add(std::string(field.name_string()), std::string(field.value()));
  request.remote_ip = conn->remote_ip;
  const bool head = request.method == "HEAD";
  // The header is parsed; the rest goes through a parser that writes body bytes into the handler's buffers.
  bhttp::request_parser<bhttp::buffer_body> parser(std::move(header_parser));
  parser.body_limit(limit);
  auto body = std::make_shared<SocketBody>(*conn, buffer, parser, options.body_timeout, send_continue);
  request.body_stream = body;
  web::Response response = co_await pipeline.Handle(request, std::move(match));
  request.body_stream.reset();
  const bool complete = body->Complete();
  const bool keep_alive = client_keep_alive && !draining && complete;
  if (!co_await WriteResponse(*conn, std::move(response), head, keep_alive, version)) co_return false;
  if (keep_alive) co_return true;
  error_code ignored;
  conn->socket.shutdown(tcp::socket::shutdown_send, ignored);
  if (!complete) {
    // The client may still be sending the body nobody read: swallow it for a moment, so that closing does not
    // reset the connection before the client has read the answer.
    std::array<char, 16 * 1024> sink;
    conn->Arm(std::chrono::milliseconds(2000));
    for (std::size_t drained = 0; drained < 64 * 1024 * 1024;) {
      error_code ec;
      drained +=
          co_await conn->socket.async_read_some(asio::buffer(sink), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    conn->Disarm();
  }
  co_return false;
}

asio::awaitable<void> Server::Impl::Serve(std::shared_ptr<Connection> conn) {
  beast::flat_buffer buffer;
  bool first = true;
  for (;;) {
    // Wait for the first byte of the next request, as long as an idle keep-alive connection may wait.
    // A drain closes connections in this state at once.
    error_code ec;
    if (buffer.size() == 0) {
      conn->idle = true;
      if (draining) co_return;
      conn->Arm(first ? options.header_timeout : options.keepalive_timeout);
      std::size_t n =
          co_await conn->socket.async_read_some(buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
      conn->Disarm();
      buffer.commit(n);
      conn->idle = false;
      if (ec) co_return;
    }
    conn->idle = false;
    first = false;

    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
    // The body limit depends on the route, known only once the request line is read; it is set below.
    // Not boost::none: Beast 1.74 compares the length with the optional, and every length exceeds "none".
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    // Usually the whole header came with the first bytes: parsed at once, with no timer and no suspension.
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec == bhttp::error::need_more) {
      ec = {};
      conn->Arm(options.header_timeout);
      co_await bhttp::async_read_header(conn->socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      conn->Disarm();
    }
    if (ec) {
      if (auto failure = ClassifyReadError(ec, conn->timed_out, false); failure.status != 0) {
        co_await WriteResponse(*conn, pipeline.EarlyError(failure.status, failure.detail, "/", ""), false, false, 11);
      }
      co_return;
    }

    auto& header = parser.get();
    std::string_view target(header.target().data(), header.target().size());
    std::string_view client_id;
    if (auto it = header.find("X-Request-Id"); it != header.end()) client_id = {it->value().data(), it->value().size()};
    std::string_view method(header.method_string().data(), header.method_string().size());
    std::string path, query;
    web::SplitTarget(target, path, query);
    web::Match match = pipeline.Match(method, path);
    std::size_t limit = pipeline.BodyLimit(match);
    if (auto length = parser.content_length(); length && *length > limit) {
      auto r = pipeline.EarlyError(413, "The request body is larger than this resource accepts.", target, client_id);
      co_await WriteResponse(*conn, std::move(r), false, false, header.version());
      co_return;
    }
    if (pipeline.StreamsBody(match)) {
      web::Request request;
      request.method.assign(method.data(), method.size());
      request.target.assign(target.data(), target.size());
      request.path = std::move(path);
      request.query = std::move(query);
      if (!co_await ServeStreamed(conn, buffer, parser, std::move(request), std::move(match), limit)) co_return;
      continue;
    }
    parser.body_limit(limit);
    if (!parser.is_done()) {
      if (auto expect = header.find(bhttp::field::expect);
          expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, header.version()};
        conn->Arm(options.body_timeout);
        co_await bhttp::async_write(conn->socket, cont, asio::redirect_error(asio::use_awaitable, ec));
        conn->Disarm();
        if (ec) co_return;
      }
      conn->Arm(options.body_timeout);
      co_await bhttp::async_read(conn->socket, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      conn->Disarm();
      if (ec) {
        if (auto failure = ClassifyReadError(ec, conn->timed_out, true); failure.status != 0) {
          co_await WriteResponse(*conn, pipeline.EarlyError(failure.status, failure.detail, target, client_id), false,
                                 false, header.version());
        }
        co_return;
      }
    }

    auto req = parser.release();
    web::Request request;
    request.method.assign(req.method_string().data(), req.method_string().size());
    request.target.assign(req.target().data(), req.target().size());
    request.path = std::move(path);
    request.query = std::move(query);
    for (const auto& field : req) {
      request.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(req.body());
    request.remote_ip = conn->remote_ip;

    web::Response response = co_await pipeline.Handle(request, std::move(match));
    bool keep_alive = req.keep_alive() && !draining;
    if (!co_await WriteResponse(*conn, std::move(response), request.method == "HEAD", keep_alive, req.version())) {
      co_return;
    }
    if (!keep_alive) {
      error_code ignored;
      conn->socket.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

}  // namespace poste::http
