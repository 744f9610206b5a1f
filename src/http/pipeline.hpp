#pragma once
// Everything between a parsed request and the response bytes, with no socket: route matching,
// request ids, error mapping, CORS, security headers, gzip, metrics and the access log.
// The Beast session calls it; API scenario tests call it directly.
#include <cstddef>
#include <string>
#include <vector>

#include "lib/web/router.hpp"

namespace poste::http {

class HttpMetrics;

struct PipelineOptions {
  std::size_t default_body_limit = 1024 * 1024;
  std::vector<std::string> cors_origins;  // exact origins allowed for cross-origin requests
  bool gzip = true;
  bool access_log = true;
};

class Pipeline {
 public:
  Pipeline(const web::Router& router, PipelineOptions options, HttpMetrics* metrics);

  // The route a request line reaches. The session matches once, before reading the body (whose limit
  // depends on the route), and hands the match to Handle.
  web::Match Match(std::string_view method, std::string_view path) const { return router_.Find(method, path); }
  // The body limit of the matched route, or the default when no route matches.
  std::size_t BodyLimit(const web::Match& match) const;
  // Whether the matched route reads its body itself as it arrives (RouteOptions::stream_body).
  bool StreamsBody(const web::Match& match) const {
    return match.kind == web::Match::Kind::kFound && match.route->options.stream_body;
  }

  web::Task<web::Response> Handle(web::Request& request);
  web::Task<web::Response> Handle(web::Request& request, web::Match match);
  // Responses the session produces itself (431, 413, 408, 400 on unparsable requests).
  web::Response EarlyError(int status, std::string_view detail, std::string_view target,
                           std::string_view client_request_id) const;

 private:
  web::Task<web::Response> Dispatch(web::RequestContext& ctx, web::Match& match);
  void Finish(const web::Request& request, web::Response& response, std::string_view request_id) const;
  bool OriginAllowed(std::string_view origin) const;

  const web::Router& router_;
  PipelineOptions options_;
  HttpMetrics* metrics_;
};

}  // namespace poste::http
