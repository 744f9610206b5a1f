#pragma once
// Rate-limit middleware for a route group: token buckets per client IP (in front of authentication, so a
// flood of bad credentials is throttled before any of them is checked) and per caller (behind it: one bucket
// per user for sessions, one per API key). Every answer carries the RateLimit-* headers of the tightest
// bucket that was consulted; a refusal is a 429 problem with Retry-After. The Limiter is an interface, so a
// Redis-backed one shares the counts between instances without changing this.
#include <cstdint>
#include <functional>
#include <string>

#include "lib/ratelimit/limiter.hpp"
#include "lib/web/route.hpp"

namespace poste::ratelimit {

// A route group's rules. A rule with capacity 0 is not applied.
struct GroupRules {
  std::string group;  // the buckets' namespace, e.g. "api": groups never share a bucket
  Rule per_ip;
  Rule per_user;
  Rule per_api_key;
};

// "N requests a minute" as a bucket: N at once, then N/60 a second. 0 gives the rule that is not applied.
Rule PerMinute(double n);

using NowMs = std::function<std::int64_t()>;

// Per IP (ctx.request.remote_ip). Put it first in the group's chain.
web::Middleware LimitPerIp(Limiter& limiter, GroupRules rules, NowMs now = SteadyNowMs);
// Per user or API key (ctx.principal); anonymous requests pass (LimitPerIp counted them). Put it after the
// authentication middleware.
web::Middleware LimitPerCaller(Limiter& limiter, GroupRules rules, NowMs now = SteadyNowMs);

}  // namespace poste::ratelimit
