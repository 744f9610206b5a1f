#pragma once
// Cross-origin access to a site's anonymous endpoints (the public read API, the contact form): a browser may
// call them from the site's own pages, that is from each of its domains over HTTPS and HTTP, and from the
// configured extra origins (server.cors_origins, which the pipeline also answers on every response). One
// copy of that policy for every module that serves a site's pages.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lib/web/message.hpp"
#include "modules/sites/sites_types.hpp"

namespace poste::sites {

// "https://<domain>" and "http://<domain>" for each of the site's domains.
std::vector<std::string> SiteOrigins(const Site& site);

// Sets Access-Control-Allow-Origin (and Vary: Origin) on `response` when the request's Origin is one of
// `origins`.
void AllowSiteOrigin(const web::Request& request, web::Response& response, const std::vector<std::string>& origins);

// What a CORS preflight may be granted.
struct PreflightPolicy {
  std::string_view allow;                             // Allow and Access-Control-Allow-Methods, e.g. "POST, OPTIONS"
  std::span<const std::string_view> methods;          // what Access-Control-Request-Method may ask, e.g. {"POST"}
  std::span<const std::string_view> request_headers;  // lower case; the only ones a caller may send
};

// The answer to an OPTIONS preflight: 204 with Allow and Vary: Origin, plus the Access-Control-Allow-* headers
// only when the Origin is one of `origins` or `extra_origins`, the asked method is one of policy.methods, and
// every asked header is one of policy.request_headers (otherwise the browser refuses the call).
web::Response Preflight(const web::Request& request, const std::vector<std::string>& origins,
                        const std::vector<std::string>& extra_origins, const PreflightPolicy& policy);

}  // namespace poste::sites
