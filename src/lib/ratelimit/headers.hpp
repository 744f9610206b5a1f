#pragma once
// The rate-limit response headers of IETF draft-ietf-httpapi-ratelimit-headers (the three-field form that
// clients and proxies widely read) plus Retry-After (RFC 9110) on a refusal.
#include <string>
#include <utility>
#include <vector>

#include "lib/ratelimit/limiter.hpp"

namespace poste::ratelimit {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// RateLimit-Limit: the capacity; RateLimit-Remaining: whole tokens left; RateLimit-Reset: seconds until the
// bucket is full again, rounded up; and when the decision refuses, Retry-After: seconds until the request
// would pass, rounded up and at least 1 (a refusal never invites an immediate retry).
HeaderList RateLimitHeaders(const Rule& rule, const Decision& decision);

}  // namespace poste::ratelimit
