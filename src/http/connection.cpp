#include "http/connection.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

namespace poste::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using boost::system::error_code;

void Connection::Arm(std::chrono::milliseconds timeout) {
  timed_out = false;
  armed_ = true;
  due_ = std::chrono::steady_clock::now() + timeout;
  if (waiting_ && timer.expiry() <= due_) return;
  WaitUntil(due_);
}

void Connection::WaitUntil(std::chrono::steady_clock::time_point when) {
  waiting_ = true;
  timer.expires_at(when);  // cancels a pending wait: its handler sees operation_aborted
  timer.async_wait([self = shared_from_this()](error_code ec) {
    if (ec) return;
    self->waiting_ = false;
    self->OnTimer();
  });
}

void Connection::OnTimer() {
  if (!armed_) return;
  if (std::chrono::steady_clock::now() < due_) {
    WaitUntil(due_);
    return;
  }
  timed_out = true;
  error_code ignored;
  socket.cancel(ignored);
}

void Connection::StopTimer() {
  armed_ = false;
  waiting_ = false;
  timer.cancel();
}

ReadFailure ClassifyReadError(error_code ec, bool timed_out, bool in_body) {
  if (ec == bhttp::error::header_limit) return {431, "The request headers are too large."};
  if (ec == bhttp::error::body_limit) return {413, "The request body is larger than this resource accepts."};
  if (timed_out) {
    return {408,
            in_body ? "The request body took too long to arrive." : "The request headers took too long to arrive."};
  }
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
    return {};
  }
  return {400, in_body ? "The request body is not valid HTTP/1.1 framing." : "The request is not valid HTTP/1.1."};
}

ErrorCode CodeOfStatus(int status) {
  switch (status) {
    case 413:
      return ErrorCode::kPayloadTooLarge;
    case 408:
      return ErrorCode::kTimeout;
    default:
      return ErrorCode::kBadRequest;
  }
}

asio::awaitable<std::size_t> SocketBody::Read(std::span<char> into) {
  if (failed_) throw AppError(ErrorCode::kBadRequest, "The request body could not be read.");
  if (parser_.is_done() || into.empty()) co_return 0;
  error_code ec;
  if (send_continue_) {
    send_continue_ = false;
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    conn_.Arm(timeout_);
    co_await asio::async_write(conn_.socket, asio::buffer(kContinue.data(), kContinue.size()),
                               asio::redirect_error(asio::use_awaitable, ec));
    conn_.Disarm();
    if (ec) Fail(ec);
  }
  std::size_t n = 0;
  while (n == 0 && !parser_.is_done()) {
    parser_.get().body().data = into.data();
    parser_.get().body().size = into.size();
    conn_.Arm(timeout_);
    co_await bhttp::async_read(conn_.socket, buffer_, parser_, asio::redirect_error(asio::use_awaitable, ec));
    conn_.Disarm();
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) Fail(ec);
    n = into.size() - parser_.get().body().size;
  }
  co_return n;
}

std::optional<std::uint64_t> SocketBody::Length() const {
  auto length = parser_.content_length();
  return length ? std::optional<std::uint64_t>(*length) : std::nullopt;
}

void SocketBody::Fail(error_code ec) {
  failed_ = true;
  auto failure = ClassifyReadError(ec, conn_.timed_out, true);
  if (failure.status == 0) {
    throw AppError(ErrorCode::kBadRequest, "The request body ended before it was complete.",
                   "client went away mid-body: " + ec.message());
  }
  throw AppError(CodeOfStatus(failure.status), std::string(failure.detail));
}

}  // namespace poste::http
