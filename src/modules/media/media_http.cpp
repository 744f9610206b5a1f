#include "modules/media/media_http.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

#include "lib/validate/ascii.hpp"

namespace poste::media {

namespace {

std::optional<std::uint64_t> Number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string_view Opaque(std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  return tag;
}

}  // namespace

RangeDecision DecideRange(std::string_view header, std::uint64_t size) {
  RangeDecision whole;
  header = validate::ascii::Trim(header);
  if (header.empty()) return whole;
  if (header.size() < 6 || (header.substr(0, 6) != "bytes=" && header.substr(0, 6) != "Bytes=")) return whole;
  auto specs = header.substr(6);
  if (specs.find(',') != std::string_view::npos) return whole;
  auto spec = validate::ascii::Trim(specs);
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  auto first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
  RangeDecision out;
  if (first_text.empty()) {  // suffix: the last N bytes
    auto n = Number(last_text);
    if (!n) return whole;
    if (*n == 0 || size == 0) return {RangeDecision::Kind::kUnsatisfiable, 0, 0};
    const std::uint64_t length = std::min(*n, size);
    return {RangeDecision::Kind::kPart, size - length, length};
  }
  auto first = Number(first_text);
  if (!first) return whole;
  std::uint64_t last = size == 0 ? 0 : size - 1;
  if (!last_text.empty()) {
    auto l = Number(last_text);
    if (!l || *l < *first) return whole;
    last = std::min(*l, last);
  }
  if (*first >= size) return {RangeDecision::Kind::kUnsatisfiable, 0, 0};
  return {RangeDecision::Kind::kPart, *first, last - *first + 1};
}

bool NoneMatchHits(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    auto tag = validate::ascii::Trim(if_none_match.substr(0, comma));
    if (tag == "*" || (!tag.empty() && Opaque(tag) == Opaque(etag))) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

bool IfRangeAllows(std::string_view if_range, std::string_view etag) {
  auto tag = validate::ascii::Trim(if_range);
  return !tag.starts_with("W/") && tag == etag;
}

}  // namespace poste::media
