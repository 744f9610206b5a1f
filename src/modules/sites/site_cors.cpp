#include "modules/sites/site_cors.hpp"

#include <algorithm>

#include "lib/validate/ascii.hpp"

namespace poste::sites {

namespace {

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::vector<std::string> SiteOrigins(const Site& site) {
  std::vector<std::string> out;
  out.reserve(site.domains.size() * 2);
  for (const auto& d : site.domains) {
    out.push_back("https://" + d);
    out.push_back("http://" + d);
  }
  return out;
}

void AllowSiteOrigin(const web::Request& request, web::Response& response, const std::vector<std::string>& origins) {
  response.headers.Add("Vary", "Origin");
  if (auto origin = request.headers.Get("Origin"); origin && Contains(origins, *origin)) {
    response.headers.Set("Access-Control-Allow-Origin", std::string(*origin));
  }
}

web::Response Preflight(const web::Request& request, const std::vector<std::string>& origins,
                        const std::vector<std::string>& extra_origins, const PreflightPolicy& policy) {
  auto r = web::Response::Empty(204);
  r.headers.Set("Allow", std::string(policy.allow));
  r.headers.Add("Vary", "Origin");
  auto origin = request.headers.Get("Origin");
  auto method = request.headers.Get("Access-Control-Request-Method");
  if (!origin || !method) return r;
  if (!Contains(origins, *origin) && !Contains(extra_origins, *origin)) return r;
  if (std::find(policy.methods.begin(), policy.methods.end(), *method) == policy.methods.end()) return r;
  std::string headers;
  if (auto asked = request.headers.Get("Access-Control-Request-Headers")) {
    std::string_view rest = *asked;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      auto name = validate::ascii::Trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (name.empty()) continue;
      auto known = std::find_if(policy.request_headers.begin(), policy.request_headers.end(),
                                [&](std::string_view allowed) { return web::IEquals(allowed, name); });
      if (known == policy.request_headers.end()) return r;  // one header the call may not send: none allowed
      if (!headers.empty()) headers += ", ";
      headers += *known;
    }
  }
  r.headers.Set("Access-Control-Allow-Origin", std::string(*origin));
  r.headers.Set("Access-Control-Allow-Methods", std::string(policy.allow));
  if (!headers.empty()) r.headers.Set("Access-Control-Allow-Headers", headers);
  r.headers.Set("Access-Control-Max-Age", "600");
  return r;
}

}  // namespace poste::sites
