#include "lib/gzip.hpp"

#include <zlib.h>

#include <memory>
#include <stdexcept>

namespace poste {

namespace {

// One deflate state per thread and level, reset between uses: deflateInit2 allocates ~256 KB of state,
// which cost more than compressing a small response.
struct Deflater {
  explicit Deflater(int level) {
    // windowBits 15 + 16 selects the gzip wrapper.
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("deflateInit2 failed");
    }
  }
  ~Deflater() { deflateEnd(&zs); }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  z_stream zs{};
};

}  // namespace

std::string GzipCompress(std::string_view data, int level) {
  if (level < 0 || level > 9) throw std::invalid_argument("gzip level must be 0..9");
  thread_local std::unique_ptr<Deflater> deflaters[10];
  auto& deflater = deflaters[level];
  if (!deflater) deflater = std::make_unique<Deflater>(level);
  z_stream& zs = deflater->zs;
  deflateReset(&zs);
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(data.size())));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate failed");
  out.resize(zs.total_out);
  return out;
}

std::optional<std::string> GzipDecompress(std::string_view data, std::size_t max_size) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char chunk[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof(chunk);
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return std::nullopt;
    }
    out.append(chunk, sizeof(chunk) - zs.avail_out);
    if (out.size() > max_size || (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0)) {
      inflateEnd(&zs);
      return std::nullopt;
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace poste
