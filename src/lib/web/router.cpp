#include "lib/web/router.hpp"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace poste::web {

struct Router::Node {
  std::unordered_map<std::string, std::unique_ptr<Node>> children;  // static segments
  std::unique_ptr<Node> param;                                      // one {name} child
  std::string param_name;
  std::vector<std::pair<std::string, const Route*>> methods;  // method -> route
};

namespace {

std::vector<std::string_view> SplitSegments(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path.front() != '/') return out;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool IsParam(std::string_view seg) { return seg.size() > 2 && seg.front() == '{' && seg.back() == '}'; }

}  // namespace

const std::string& RequestContext::Param(std::string_view name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

void Router::Add(Route route) {
  if (route.pattern.empty() || route.pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " + route.pattern);
  }
  Node* node = root_.get();
  for (auto seg : SplitSegments(route.pattern)) {
    if (IsParam(seg)) {
      std::string name(seg.substr(1, seg.size() - 2));
      if (!node->param) {
        node->param = std::make_unique<Node>();
        node->param_name = name;
      } else if (node->param_name != name) {
        throw std::invalid_argument("conflicting parameter names at " + route.pattern);
      }
      node = node->param.get();
    } else {
      if (seg.find_first_of("{}") != std::string_view::npos) {
        throw std::invalid_argument("malformed segment in " + route.pattern);
      }
      auto& child = node->children[std::string(seg)];
      if (!child) child = std::make_unique<Node>();
      node = child.get();
    }
  }
  for (const auto& [m, r] : node->methods) {
    if (m == route.method) throw std::invalid_argument("duplicate route " + route.method + " " + route.pattern);
  }
  routes_.push_back(std::make_unique<Route>(std::move(route)));
  node->methods.emplace_back(routes_.back()->method, routes_.back().get());
}

const Router::Node* Router::Walk(std::string_view path, std::map<std::string, std::string, std::less<>>& params,
                                 bool& bad) const {
  auto segments = SplitSegments(path);
  if (segments.empty()) return nullptr;
  // Depth-first with static segments tried before the parameter, so "/sites/new" beats "/sites/{site}"
  // yet "/sites/x/pages" still reaches "/sites/{site}/pages".
  std::function<const Node*(const Node*, size_t)> walk = [&](const Node* node, size_t i) -> const Node* {
    if (i == segments.size()) return node->methods.empty() ? nullptr : node;
    auto it = node->children.find(std::string(segments[i]));
    if (it != node->children.end()) {
      if (const Node* found = walk(it->second.get(), i + 1)) return found;
    }
    if (node->param && !segments[i].empty()) {
      auto decoded = PercentDecode(segments[i]);
      if (!decoded) {
        bad = true;
        return nullptr;
      }
      if (const Node* found = walk(node->param.get(), i + 1)) {
        params.emplace(node->param_name, std::move(*decoded));
        return found;
      }
    }
    return nullptr;
  };
  return walk(root_.get(), 0);
}

Match Router::Find(std::string_view method, std::string_view path) const {
  Match match;
  bool bad = false;
  const Node* node = Walk(path, match.params, bad);
  if (bad) {
    match.kind = Match::Kind::kBadPath;
    return match;
  }
  if (!node) {
    match.kind = Match::Kind::kNotFound;
    return match;
  }
  std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  for (const auto& [m, r] : node->methods) {
    if (m == method || m == wanted) {
      match.kind = Match::Kind::kFound;
      match.route = r;
      return match;
    }
  }
  match.kind = Match::Kind::kMethodNotAllowed;
  match.allowed = AllowedMethods(path);
  return match;
}

std::vector<std::string> Router::AllowedMethods(std::string_view path) const {
  std::map<std::string, std::string, std::less<>> params;
  bool bad = false;
  const Node* node = Walk(path, params, bad);
  std::vector<std::string> out;
  if (!node) return out;
  for (const auto& [m, r] : node->methods) {
    out.push_back(m);
    if (m == "GET") out.emplace_back("HEAD");
  }
  out.emplace_back("OPTIONS");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

RouteGroup::RouteGroup(Router& router, std::string prefix, std::vector<Middleware> middleware)
    : router_(router), prefix_(std::move(prefix)), middleware_(std::move(middleware)) {}

RouteGroup RouteGroup::Group(const std::string& prefix, std::vector<Middleware> middleware) const {
  std::vector<Middleware> chain = middleware_;
  chain.insert(chain.end(), middleware.begin(), middleware.end());
  return RouteGroup(router_, prefix_ + prefix, std::move(chain));
}

void RouteGroup::Add(const std::string& method, const std::string& path, Handler handler, RouteOptions options,
                     std::vector<Middleware> middleware) const {
  std::vector<Middleware> chain = middleware_;
  chain.insert(chain.end(), middleware.begin(), middleware.end());
  router_.Add(Route{method, prefix_ + path, Chain(std::move(chain), std::move(handler)), options});
}

Handler Chain(std::vector<Middleware> middleware, Handler handler) {
  Handler next = std::move(handler);
  for (auto it = middleware.rbegin(); it != middleware.rend(); ++it) {
    next = [mw = *it, inner = std::move(next)](RequestContext& ctx) -> Task<Response> { return mw(ctx, inner); };
  }
  return next;
}

}  // namespace poste::web
