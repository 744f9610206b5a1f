#pragma once
// A connection of the server (server.cpp only: this header carries Beast): its socket, the deadline that
// guards its current operation, and the streamed request body read from it.
#include <utility>  // before Asio: Boost 1.74 + g++ 12 coroutines need std::exchange

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "lib/error.hpp"
#include "lib/web/body_source.hpp"

namespace poste::http {

// Everything here is touched only by the thread of the connection's io_context.
struct Connection : std::enable_shared_from_this<Connection> {
  explicit Connection(boost::asio::ip::tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}

  // Guards the next operation: unless Disarm() comes first, `timeout` from now the socket's pending operations
  // are cancelled and timed_out is set. The timer is rescheduled only when the new deadline is earlier than
  // the wait already pending (which otherwise wakes, sees a later deadline and waits again): a request on a
  // keep-alive connection costs no timer operation.
  void Arm(std::chrono::milliseconds timeout);
  void Disarm() { armed_ = false; }
  // At the end: the pending wait lets go of the connection.
  void StopTimer();

  boost::asio::ip::tcp::socket socket;
  boost::asio::steady_timer timer;
  bool timed_out = false;
  bool idle = true;  // waiting for the first byte of a request: safe to close on drain
  std::string remote_ip;
  std::string head;  // the serialised response head, reused across the connection's responses

 private:
  void WaitUntil(std::chrono::steady_clock::time_point when);
  void OnTimer();

  std::chrono::steady_clock::time_point due_{};
  bool armed_ = false;
  bool waiting_ = false;
};

// What a client whose request could not be read is owed: a status and why, or nothing (status 0) when
// it went away or the drain cancelled the read, and the connection just closes.
struct ReadFailure {
  int status = 0;
  std::string_view detail;
};
ReadFailure ClassifyReadError(boost::system::error_code ec, bool timed_out, bool in_body);
ErrorCode CodeOfStatus(int status);

// The body of a streamed route's request (RouteOptions::stream_body), read from the socket as the handler
// asks for it. Each wait for bytes gets server.body_timeout: an upload may take long, a stalled one may not.
// "100 Continue" goes out on the first read, so a request refused before its body (401, 404) never makes the
// client send it.
class SocketBody final : public web::BodySource {
 public:
  SocketBody(Connection& conn, boost::beast::flat_buffer& buffer,
             boost::beast::http::request_parser<boost::beast::http::buffer_body>& parser,
             std::chrono::milliseconds timeout, bool send_continue)
      : conn_(conn), buffer_(buffer), parser_(parser), timeout_(timeout), send_continue_(send_continue) {}

  boost::asio::awaitable<std::size_t> Read(std::span<char> into) override;
  std::optional<std::uint64_t> Length() const override;
  // The whole body was read: the connection can carry the next request.
  bool Complete() const { return !failed_ && parser_.is_done(); }

 private:
  [[noreturn]] void Fail(boost::system::error_code ec);

  Connection& conn_;
  boost::beast::flat_buffer& buffer_;
  boost::beast::http::request_parser<boost::beast::http::buffer_body>& parser_;
  std::chrono::milliseconds timeout_;
  bool send_continue_;
  bool failed_ = false;
};

}  // namespace poste::http
