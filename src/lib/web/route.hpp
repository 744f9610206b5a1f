#pragma once
// What a module declares: routes with their handler, middleware and limits.
#include <utility>  // before Asio: Boost 1.74 + g++ 12 coroutines need std::exchange

#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/web/message.hpp"
#include "lib/web/principal.hpp"

namespace poste::web {

template <class T>
using Task = boost::asio::awaitable<T>;

struct RequestContext {
  Request& request;
  std::map<std::string, std::string, std::less<>> params;  // {param} segments, percent-decoded
  std::string request_id;
  std::string route;                   // the matched pattern, e.g. "/api/v1/sites/{site}"
  std::optional<Principal> principal;  // set by the authentication middleware
  std::int64_t site_id = 0;            // the {site} of the path, resolved by the site-access middleware

  const std::string& Param(std::string_view name) const;
};

using Handler = std::function<Task<Response>(RequestContext&)>;
using Next = std::function<Task<Response>(RequestContext&)>;
using Middleware = std::function<Task<Response>(RequestContext&, const Next&)>;

struct RouteOptions {
  std::size_t body_limit = 0;  // bytes; 0 means the server default (server.body_limit_bytes); 413 beyond
  bool documented = true;      // false for routes kept out of the OpenAPI document
  // The server hands the handler the body as it arrives (BodyOf(ctx.request), lib/web/body_source.hpp) instead
  // of reading it whole first; body_limit still caps it (413) and server.body_timeout bounds each wait for bytes.
  bool stream_body = false;
};

struct Route {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/api/v1/sites/{site}"
  Handler handler;      // the handler wrapped in the route's middleware chain
  RouteOptions options;
};

class Router;

// Routes sharing a path prefix and a middleware chain; groups nest.
class RouteGroup {
 public:
  RouteGroup(Router& router, std::string prefix, std::vector<Middleware> middleware);

  RouteGroup Group(const std::string& prefix, std::vector<Middleware> middleware = {}) const;
  void Add(const std::string& method, const std::string& path, Handler handler, RouteOptions options = {},
           std::vector<Middleware> middleware = {}) const;
  void Get(const std::string& path, Handler h, RouteOptions o = {}, std::vector<Middleware> m = {}) const {
    Add("GET", path, std::move(h), o, std::move(m));
  }
  void Post(const std::string& path, Handler h, RouteOptions o = {}, std::vector<Middleware> m = {}) const {
    Add("POST", path, std::move(h), o, std::move(m));
  }
  void Put(const std::string& path, Handler h, RouteOptions o = {}, std::vector<Middleware> m = {}) const {
    Add("PUT", path, std::move(h), o, std::move(m));
  }
  void Patch(const std::string& path, Handler h, RouteOptions o = {}, std::vector<Middleware> m = {}) const {
    Add("PATCH", path, std::move(h), o, std::move(m));
  }
  void Delete(const std::string& path, Handler h, RouteOptions o = {}, std::vector<Middleware> m = {}) const {
    Add("DELETE", path, std::move(h), o, std::move(m));
  }

 private:
  Router& router_;
  std::string prefix_;
  std::vector<Middleware> middleware_;
};

// Wraps a handler in middleware, first in the list outermost.
Handler Chain(std::vector<Middleware> middleware, Handler handler);

}  // namespace poste::web
