#include "lib/gzip.hpp"

#include <optional>

#include <zlib.h>

#include <memory>
#include <stdexcept>

#include "lib/web/message.hpp"

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
  // deflateBound reserved about the input's size; kept answers (lib/cache) would hold it for nothing.
  if (out.capacity() - out.size() > 4096) out.shrink_to_fit();
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

namespace {

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The q-value of one Accept-Encoding element's parameters (";q=0.5"); 1 when absent; -1 when malformed.
double QValue(std::string_view params) {
  auto pos = params.find("q=");
  if (pos == std::string_view::npos) pos = params.find("Q=");
  if (pos == std::string_view::npos) return 1.0;
  auto value = TrimSpace(params.substr(pos + 2));
  value = value.substr(0, value.find(';'));
  value = TrimSpace(value);
  if (value.empty() || value.size() > 5) return -1;
  // RFC 9110 qvalue: 0, 1, or 0. followed by up to three digits.
  int whole = value.front() - '0';
  if (whole < 0 || whole > 1) return -1;
  double q = whole;
  if (value.size() > 1) {
    if (value[1] != '.') return -1;
    double scale = 0.1;
    for (std::size_t i = 2; i < value.size(); ++i) {
      int d = value[i] - '0';
      if (d < 0 || d > 9) return -1;
      q += d * scale;
      scale /= 10;
    }
  }
  return q > 1 ? -1 : q;
}

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<double> gzip_q, star_q;
  std::size_t start = 0;
  while (start <= accept_encoding.size()) {
    auto comma = std::min(accept_encoding.find(',', start), accept_encoding.size());
    auto element = TrimSpace(accept_encoding.substr(start, comma - start));
    start = comma + 1;
    if (element.empty()) continue;
    auto semi = element.find(';');
    auto coding = TrimSpace(element.substr(0, semi));
    double q = semi == std::string_view::npos ? 1.0 : QValue(element.substr(semi + 1));
    if (q < 0) continue;
    if (web::IEquals(coding, "gzip") || web::IEquals(coding, "x-gzip")) {
      gzip_q = q;
    } else if (coding == "*") {
      star_q = q;
    }
  }
  if (gzip_q) return *gzip_q > 0;
  return star_q && *star_q > 0;
}

}  // namespace poste
