#pragma once
// The HTTP rules of serving a stored file, as pure functions: Range (RFC 9110 §14.2) and the entity-tag
// comparisons of If-None-Match and If-Range (§13.1).
#include <cstdint>
#include <string_view>

namespace poste::media {

struct RangeDecision {
  enum class Kind {
    kWhole,          // no Range, an unusable one, or several ranges: 200 with the whole file
    kPart,           // 206 with [first, first + length)
    kUnsatisfiable,  // 416 with Content-Range: bytes */size
  };
  Kind kind = Kind::kWhole;
  std::uint64_t first = 0;
  std::uint64_t length = 0;
};

// A syntactically invalid header is ignored (the whole file), as RFC 9110 asks; several ranges are answered with
// the whole file too (allowed, and simpler than multipart/byteranges).
RangeDecision DecideRange(std::string_view range_header, std::uint64_t size);

// Whether If-None-Match (a list of entity tags or "*") matches `etag`, compared weakly.
bool NoneMatchHits(std::string_view if_none_match, std::string_view etag);

// Whether If-Range allows the range: it must name `etag` exactly (a strong comparison; a date or a weak tag never
// matches, so the whole file is sent).
bool IfRangeAllows(std::string_view if_range, std::string_view etag);

}  // namespace poste::media
