#pragma once
// Answering a GET or HEAD from a ReadyEntry: conditional requests (If-None-Match -> 304), the gzip variant
// for clients that accept it, CORS for the entry's allowed origins.
#include <memory>
#include <string_view>

#include "lib/cache/ready_cache.hpp"
#include "lib/web/message.hpp"

namespace poste::cache {

inline constexpr std::string_view kPublicCacheControl = "public, no-cache";

// 304 (no body) when If-None-Match names the entry's ETag (weak comparison, "*" included); otherwise 200 with
// the gzip variant when Accept-Encoding accepts gzip and there is one, else the identity body. Always sets
// ETag (the gzip variant has its own), Cache-Control and, when a gzip variant exists, Vary: Accept-Encoding. When the
// entry has allowed origins: Vary: Origin, and Access-Control-Allow-Origin for a request whose Origin is one of them.
// Marked encoded when the entry has a gzip variant (the encoding is settled), and then the body is the entry's own
// bytes, shared (Response::stream over memory), never copied; without a variant the pipeline may compress, so the
// body is a copy in Response::body. HEAD is answered like GET: the server leaves the body out.
web::Response ServeReady(const web::Request& request, const std::shared_ptr<const ReadyEntry>& entry,
                         std::string_view cache_control = kPublicCacheControl);

// If-None-Match against one strong ETag: a comma-separated list of entity tags, W/ prefixes ignored (RFC 9110
// 13.1.2 uses the weak comparison), or "*". Malformed lists never match.
bool EtagMatches(std::string_view if_none_match, std::string_view etag);

}  // namespace poste::cache
