#include "lib/web/body_source.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

#include "lib/error.hpp"

namespace poste::web {

boost::asio::awaitable<std::size_t> StringBodySource::Read(std::span<char> into) {
  const std::size_t n = std::min(into.size(), bytes_.size() - pos_);
  if (n > 0) std::memcpy(into.data(), bytes_.data() + pos_, n);
  pos_ += n;
  co_return n;
}

BodySource& BodyOf(Request& request) {
  if (!request.body_stream) request.body_stream = std::make_shared<StringBodySource>(request.body);
  return *request.body_stream;
}

boost::asio::awaitable<std::string> ReadAll(BodySource& source, std::size_t max_bytes) {
  std::string out;
  std::vector<char> chunk(64 * 1024);
  for (;;) {
    const std::size_t n = co_await source.Read(chunk);
    if (n == 0) break;
    if (out.size() + n > max_bytes) {
      throw AppError(ErrorCode::kPayloadTooLarge, "The body is larger than this resource accepts.");
    }
    out.append(chunk.data(), n);
  }
  co_return out;
}

}  // namespace poste::web
