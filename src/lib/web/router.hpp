#pragma once
// Method + path matching with {param} segments. Static segments win over parameters; HEAD matches GET.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lib/web/route.hpp"

namespace poste::web {

struct Match {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed, kBadPath };
  Kind kind = Kind::kNotFound;
  const Route* route = nullptr;
  std::map<std::string, std::string, std::less<>> params;
  std::vector<std::string> allowed;  // for kMethodNotAllowed, and for OPTIONS on a known path
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  RouteGroup Root() { return RouteGroup(*this, "", {}); }
  RouteGroup Group(std::string prefix, std::vector<Middleware> middleware = {}) {
    return RouteGroup(*this, std::move(prefix), std::move(middleware));
  }

  // Throws std::invalid_argument on a malformed pattern or a duplicate method + pattern.
  void Add(Route route);
  Match Find(std::string_view method, std::string_view path) const;
  // Methods registered for a path (HEAD and OPTIONS included where due); empty when no route matches.
  std::vector<std::string> AllowedMethods(std::string_view path) const;
  const std::vector<std::unique_ptr<Route>>& Routes() const { return routes_; }

 private:
  struct Node;
  const Node* Walk(std::string_view path, std::map<std::string, std::string, std::less<>>& params, bool& bad) const;

  std::unique_ptr<Node> root_;
  std::vector<std::unique_ptr<Route>> routes_;
};

}  // namespace poste::web
