#pragma once
// A body read chunk by chunk: a request body still arriving on the socket (routes with
// RouteOptions::stream_body), or a response body sent from a file. Handlers stay free of Beast: the server
// implements this interface for the socket, and lib/web/file_body.hpp for files.
#include <utility>  // before Asio: Boost 1.74 + g++ 12 coroutines need std::exchange

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "lib/web/message.hpp"

namespace poste::web {

class BodySource {
 public:
  virtual ~BodySource() = default;
  // Copies the next bytes into `into` (into.size() > 0) and returns how many; 0 only at the end of the body.
  // A request body throws AppError: 413 past the route's limit, 408 when the client sends nothing for
  // server.body_timeout, 400 when the framing is broken or the client went away mid-body.
  virtual boost::asio::awaitable<std::size_t> Read(std::span<char> into) = 0;
  // The length announced up front: a request's Content-Length (nullopt when chunked); always set for a response.
  virtual std::optional<std::uint64_t> Length() const = 0;
  // The unread rest of the body when it already sits in memory: the server sends it with the response head in
  // one write, neither copied nor read in chunks. nullopt for a socket or a file.
  virtual std::optional<std::string_view> InMemory() const { return std::nullopt; }
};

// A body held in memory (a request body the server already read, a test's body, a cached answer); views
// `bytes`, which must outlive it, or which `owner` keeps alive (a ready-bytes cache entry shared by every
// response that sends it).
class StringBodySource final : public BodySource {
 public:
  explicit StringBodySource(std::string_view bytes, std::shared_ptr<const void> owner = {})
      : bytes_(bytes), owner_(std::move(owner)) {}
  boost::asio::awaitable<std::size_t> Read(std::span<char> into) override;
  std::optional<std::uint64_t> Length() const override { return bytes_.size(); }
  std::optional<std::string_view> InMemory() const override { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  std::shared_ptr<const void> owner_;
  std::size_t pos_ = 0;
};

// The request's body as a source: the server's stream when the route streams its body, else a source over
// request.body (made on first use and kept in request.body_stream). Read it once.
BodySource& BodyOf(Request& request);

// Reads the rest of a source into a string; throws AppError 413 past max_bytes. For tests and small bodies.
boost::asio::awaitable<std::string> ReadAll(BodySource& source, std::size_t max_bytes);

}  // namespace poste::web
