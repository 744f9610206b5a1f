#include "lib/cache/ready_response.hpp"

#include <algorithm>
#include <optional>

#include "lib/web/body_source.hpp"

namespace poste::cache {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The q-value of one Accept-Encoding element's parameters (";q=0.5"); 1 when absent; -1 when malformed.
double QValue(std::string_view params) {
  auto pos = params.find("q=");
  if (pos == std::string_view::npos) pos = params.find("Q=");
  if (pos == std::string_view::npos) return 1.0;
  auto value = Trim(params.substr(pos + 2));
  value = value.substr(0, value.find(';'));
  value = Trim(value);
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

bool IEqualsAscii(std::string_view a, std::string_view b) { return web::IEquals(a, b); }

}  // namespace

bool AcceptsGzip(std::string_view accept_encoding) {
  std::optional<double> gzip_q, star_q;
  std::size_t start = 0;
  while (start <= accept_encoding.size()) {
    auto comma = std::min(accept_encoding.find(',', start), accept_encoding.size());
    auto element = Trim(accept_encoding.substr(start, comma - start));
    start = comma + 1;
    if (element.empty()) continue;
    auto semi = element.find(';');
    auto coding = Trim(element.substr(0, semi));
    double q = semi == std::string_view::npos ? 1.0 : QValue(element.substr(semi + 1));
    if (q < 0) continue;
    if (IEqualsAscii(coding, "gzip") || IEqualsAscii(coding, "x-gzip")) {
      gzip_q = q;
    } else if (coding == "*") {
      star_q = q;
    }
  }
  if (gzip_q) return *gzip_q > 0;
  return star_q && *star_q > 0;
}

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  auto value = Trim(if_none_match);
  if (value == "*") return true;
  auto strip = [](std::string_view tag) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    return tag;
  };
  const auto wanted = strip(etag);
  std::size_t start = 0;
  while (start < value.size()) {
    auto comma = std::min(value.find(',', start), value.size());
    auto tag = strip(Trim(value.substr(start, comma - start)));
    start = comma + 1;
    if (tag.size() >= 2 && tag.front() == '"' && tag.back() == '"' && tag == wanted) return true;
  }
  return false;
}

web::Response ServeReady(const web::Request& request, const std::shared_ptr<const ReadyEntry>& shared,
                         std::string_view cache_control) {
  const ReadyEntry& entry = *shared;
  web::Response r;
  auto& h = r.headers;
  const bool has_gzip = !entry.gzip.empty();
  // With a gzip variant the encoding is settled here; without one the pipeline may still compress on demand.
  r.encoded = has_gzip;
  bool gzip = false;
  if (has_gzip) {
    auto accept = request.headers.Get("Accept-Encoding");
    gzip = accept && AcceptsGzip(*accept);
  }
  const std::string& etag = gzip ? entry.gzip_etag : entry.etag;
  h.Set("ETag", etag);
  h.Set("Cache-Control", std::string(cache_control));
  if (has_gzip) h.Add("Vary", "Accept-Encoding");
  if (!entry.allowed_origins.empty()) {
    h.Add("Vary", "Origin");
    if (auto origin = request.headers.Get("Origin")) {
      if (std::find(entry.allowed_origins.begin(), entry.allowed_origins.end(), *origin) !=
          entry.allowed_origins.end()) {
        h.Set("Access-Control-Allow-Origin", std::string(*origin));
        h.Set("Access-Control-Expose-Headers", "ETag");
      }
    }
  }
  // Either representation's tag means the client holds the current version.
  if (auto inm = request.headers.Get("If-None-Match");
      inm && (EtagMatches(*inm, entry.etag) || (has_gzip && EtagMatches(*inm, entry.gzip_etag)))) {
    r.status = 304;
    return r;
  }
  r.status = 200;
  h.Set("Content-Type", entry.content_type);
  if (gzip) h.Set("Content-Encoding", "gzip");
  if (has_gzip) {
    r.stream = std::make_shared<web::StringBodySource>(gzip ? entry.gzip : entry.identity, shared);
  } else {
    r.body = entry.identity;
  }
  return r;
}

}  // namespace poste::cache
