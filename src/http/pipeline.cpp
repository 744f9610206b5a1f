#include "http/pipeline.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <exception>

#include "http/access_log.hpp"
#include "http/http_metrics.hpp"
#include "lib/gzip.hpp"
#include "lib/ids.hpp"
#include "lib/web/problem.hpp"

namespace poste::http {

namespace {

constexpr std::size_t kGzipMinBytes = 1024;
// The route label of requests that reached no route (one static string: metrics cache by its address).
constexpr const char* kUnmatched = "unmatched";

bool Compressible(std::string_view content_type) {
  return content_type.starts_with("text/") || content_type.find("json") != std::string_view::npos ||
         content_type.find("javascript") != std::string_view::npos ||
         content_type.find("xml") != std::string_view::npos || content_type.starts_with("image/svg");
}

// Adds a token to Vary unless a Vary header already names it (a handler may have set it).
void AddVary(web::Headers& h, std::string_view token) {
  for (const auto& [name, value] : h.All()) {
    if (!web::IEquals(name, "Vary")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (web::IEquals(item, token)) return;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  h.Add("Vary", std::string(token));
}

std::string JoinMethods(const std::vector<std::string>& methods) {
  std::string out;
  for (const auto& m : methods) {
    if (!out.empty()) out += ", ";
    out += m;
  }
  return out;
}

}  // namespace

Pipeline::Pipeline(const web::Router& router, PipelineOptions options, HttpMetrics* metrics)
    : router_(router), options_(std::move(options)), metrics_(metrics) {}

std::size_t Pipeline::BodyLimit(const web::Match& match) const {
  if (match.kind == web::Match::Kind::kFound && match.route->options.body_limit != 0) {
    return match.route->options.body_limit;
  }
  return options_.default_body_limit;
}

web::Task<web::Response> Pipeline::Handle(web::Request& request) {
  return Handle(request, router_.Find(request.method, request.path));
}

web::Task<web::Response> Pipeline::Handle(web::Request& request, web::Match match) {
  auto start = std::chrono::steady_clock::now();
  if (metrics_) metrics_->Begin();

  web::RequestContext ctx{request, {}, {}, {}, std::nullopt, 0};
  auto client_id = request.headers.Get("X-Request-Id");
  ctx.request_id = client_id && IsWellFormedRequestId(*client_id) ? std::string(*client_id) : RandomHex(8);

  web::Response response = co_await Dispatch(ctx, match);
  Finish(request, response, ctx.request_id);

  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string_view route = ctx.route.empty() ? std::string_view(kUnmatched) : ctx.route;
  if (metrics_) metrics_->End(route, request.method, response.status, seconds);
  if (options_.access_log) LogAccess(request, response, route, ctx.request_id, seconds);
  co_return response;
}

web::Task<web::Response> Pipeline::Dispatch(web::RequestContext& ctx, web::Match& match) {
  const web::Request& request = ctx.request;
  // OPTIONS is answered here, unless a route declares OPTIONS itself (a preflight that depends on the
  // resource, e.g. a public site's own domains).
  if (request.method == "OPTIONS" && match.kind != web::Match::Kind::kFound) {
    auto allowed = router_.AllowedMethods(request.path);
    if (allowed.empty()) co_return web::ProblemResponse(404, "No resource at this path.", request.path, ctx.request_id);
    web::Response r = web::Response::Empty(204);
    r.headers.Set("Allow", JoinMethods(allowed));
    auto origin = request.headers.Get("Origin");
    if (origin && request.headers.Has("Access-Control-Request-Method") && OriginAllowed(*origin)) {
      r.headers.Set("Access-Control-Allow-Methods", JoinMethods(allowed));
      if (auto h = request.headers.Get("Access-Control-Request-Headers")) {
        r.headers.Set("Access-Control-Allow-Headers", std::string(*h));
      }
      r.headers.Set("Access-Control-Max-Age", "600");
    }
    co_return r;
  }

  switch (match.kind) {
    case web::Match::Kind::kNotFound:
      co_return web::ProblemResponse(404, "No resource at this path.", request.path, ctx.request_id);
    case web::Match::Kind::kBadPath:
      co_return web::ProblemResponse(400, "The path has a malformed percent-escape.", request.path, ctx.request_id);
    case web::Match::Kind::kMethodNotAllowed: {
      auto r = web::ProblemResponse(405, "This method is not allowed on this resource.", request.path, ctx.request_id);
      r.headers.Set("Allow", JoinMethods(match.allowed));
      co_return r;
    }
    case web::Match::Kind::kFound:
      break;
  }

  ctx.params = std::move(match.params);
  ctx.route = match.route->pattern;
  std::exception_ptr failure;
  try {
    co_return co_await match.route->handler(ctx);
  } catch (...) {
    failure = std::current_exception();
  }
  try {
    std::rethrow_exception(failure);
  } catch (const AppError& e) {
    if (e.status() >= 500) {
      spdlog::error("request {} failed: {}", ctx.request_id, e.detail().empty() ? e.message() : e.detail());
    }
    co_return web::ProblemResponse(e, request.path, ctx.request_id);
  } catch (const std::exception& e) {
    spdlog::error("request {} failed with an unexpected exception: {}", ctx.request_id, e.what());
  } catch (...) {
    spdlog::error("request {} failed with an unknown exception", ctx.request_id);
  }
  co_return web::ProblemResponse(AppError::Internal(""), request.path, ctx.request_id);
}

void Pipeline::Finish(const web::Request& request, web::Response& response, std::string_view request_id) const {
  auto& h = response.headers;
  h.Set("X-Request-Id", std::string(request_id));
  h.Set("X-Content-Type-Options", "nosniff");
  h.Set("Referrer-Policy", "strict-origin-when-cross-origin");
  auto type = h.Get("Content-Type").value_or("");
  bool is_api = request.path.starts_with("/api/") || type.find("json") != std::string_view::npos;
  if (is_api && !h.Has("Content-Security-Policy")) {
    // API answers are data, never documents: nothing may load from them or frame them.
    h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    h.Set("X-Frame-Options", "DENY");
  }
  if (auto origin = request.headers.Get("Origin"); origin && OriginAllowed(*origin)) {
    h.Set("Access-Control-Allow-Origin", std::string(*origin));
    AddVary(h, "Origin");
  }
  if (options_.gzip && !response.encoded && response.body.size() >= kGzipMinBytes && !h.Has("Content-Encoding") &&
      Compressible(type)) {
    h.Add("Vary", "Accept-Encoding");
    if (auto accept = request.headers.Get("Accept-Encoding"); accept && AcceptsGzip(*accept)) {
      response.body = GzipCompress(response.body);
      h.Set("Content-Encoding", "gzip");
    }
  }
}

bool Pipeline::OriginAllowed(std::string_view origin) const {
  return std::find(options_.cors_origins.begin(), options_.cors_origins.end(), origin) != options_.cors_origins.end();
}

web::Response Pipeline::EarlyError(int status, std::string_view detail, std::string_view target,
                                   std::string_view client_request_id) const {
  std::string id = IsWellFormedRequestId(client_request_id) ? std::string(client_request_id) : RandomHex(8);
  std::string path, query;
  web::SplitTarget(target, path, query);
  web::Request request;
  request.path = path;
  auto response = web::ProblemResponse(status, detail, path, id);
  Finish(request, response, id);
  if (metrics_) {
    metrics_->Begin();
    metrics_->End(kUnmatched, "-", status, 0.0);
  }
  return response;
}

}  // namespace poste::http
