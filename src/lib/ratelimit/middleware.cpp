#include "lib/ratelimit/middleware.hpp"

#include <memory>
#include <optional>
#include <utility>

#include "lib/error.hpp"
#include "lib/ratelimit/headers.hpp"
#include "lib/web/problem.hpp"

namespace poste::ratelimit {

namespace {

bool Applies(const Rule& rule) { return rule.capacity > 0 && rule.refill_per_second > 0; }

// The headers already on a response came from a bucket consulted further in (the caller's); keep the one
// with fewer tokens left, so that a client reading them never overestimates what it may send.
void SetHeaders(web::Response& r, const Rule& rule, const Decision& decision) {
  if (auto existing = r.headers.Get("RateLimit-Remaining")) {
    try {
      if (std::stod(std::string(*existing)) <= decision.remaining) return;
    } catch (const std::exception&) {
    }
  }
  for (auto& [name, value] : RateLimitHeaders(rule, decision)) r.headers.Set(name, value);
}

web::Task<web::Response> Limited(Limiter& limiter, const std::string& key, const Rule& rule, std::int64_t now,
                                 web::RequestContext& ctx, const web::Next& next) {
  const Decision decision = limiter.Take(key, rule, now);
  web::Response r;
  if (decision.allowed) {
    r = co_await next(ctx);
  } else {
    r = web::ProblemFor(ctx, AppError(ErrorCode::kTooManyRequests, "Too many requests. Slow down."));
  }
  SetHeaders(r, rule, decision);
  co_return r;
}

}  // namespace

Rule PerMinute(double n) {
  if (!(n > 0)) return Rule{};
  return Rule{n, n / 60.0};
}

web::Middleware LimitPerIp(Limiter& limiter, GroupRules rules, NowMs now) {
  auto shared = std::make_shared<const GroupRules>(std::move(rules));
  const std::string prefix = "rl:" + shared->group + ":ip:";
  return [&limiter, shared, prefix, now = std::move(now)](web::RequestContext& ctx,
                                                          const web::Next& next) -> web::Task<web::Response> {
    if (!Applies(shared->per_ip)) co_return co_await next(ctx);
    co_return co_await Limited(limiter, prefix + ctx.request.remote_ip, shared->per_ip, now(), ctx, next);
  };
}

web::Middleware LimitPerCaller(Limiter& limiter, GroupRules rules, NowMs now) {
  auto shared = std::make_shared<const GroupRules>(std::move(rules));
  return [&limiter, shared, now = std::move(now)](web::RequestContext& ctx,
                                                  const web::Next& next) -> web::Task<web::Response> {
    if (!ctx.principal) co_return co_await next(ctx);
    const bool by_key = ctx.principal->api_key_id.has_value();
    const Rule& rule = by_key ? shared->per_api_key : shared->per_user;
    if (!Applies(rule)) co_return co_await next(ctx);
    const std::string key = "rl:" + shared->group +
                            (by_key ? ":key:" + std::to_string(*ctx.principal->api_key_id)
                                    : ":user:" + std::to_string(ctx.principal->user_id));
    co_return co_await Limited(limiter, key, rule, now(), ctx, next);
  };
}

}  // namespace poste::ratelimit
