#include "lib/cache/ready_response.hpp"

#include <algorithm>
#include <optional>

#include "lib/gzip.hpp"
#include "lib/validate/ascii.hpp"
#include "lib/web/body_source.hpp"

namespace poste::cache {

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  auto value = validate::ascii::Trim(if_none_match);
  if (value == "*") return true;
  auto strip = [](std::string_view tag) {
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    return tag;
  };
  const auto wanted = strip(etag);
  std::size_t start = 0;
  while (start < value.size()) {
    auto comma = std::min(value.find(',', start), value.size());
    auto tag = strip(validate::ascii::Trim(value.substr(start, comma - start)));
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
    gzip = accept && poste::AcceptsGzip(*accept);
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
