#pragma once
// Plain HTTP request and response values. Beast stays inside the http layer's session; everything
// above it (routes, middleware, handlers, tests) works with these.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace poste::web {

class BodySource;  // lib/web/body_source.hpp

// Header names compare case-insensitively; order and duplicates are kept.
class Headers {
 public:
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  void Set(std::string name, std::string value);  // replaces every header of that name
  void Add(std::string name, std::string value);
  void Remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& All() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

bool IEquals(std::string_view a, std::string_view b);

struct Request {
  std::string method;  // upper case, as received
  std::string target;  // raw request target: path plus query
  std::string path;    // the path part of target, not percent-decoded
  std::string query;   // the part after '?', without it
  Headers headers;
  std::string body;
  std::string remote_ip;
  // Set by the server for a route with RouteOptions::stream_body: the body, still on the socket (and `body`
  // empty). Handlers read either through BodyOf(request), which also covers an in-memory body.
  std::shared_ptr<BodySource> body_stream;

  // Percent-decoded value of a query parameter, if present.
  std::optional<std::string> QueryParam(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the body is streamed from it instead (its Length() bytes, sent as Content-Length), and `body`
  // stays empty: files are sent in chunks, never read whole.
  std::shared_ptr<BodySource> stream;
  // The body is final as it is (e.g. a ready-bytes cache entry that already chose its encoding and set
  // Vary): the pipeline neither compresses it nor adds Vary: Accept-Encoding.
  bool encoded = false;

  static Response Json(int status, std::string body);
  static Response Text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  static Response Empty(int status);
};

// Splits a raw target into path and query.
void SplitTarget(std::string_view target, std::string& path, std::string& query);
// Decodes %XX escapes (and '+' as space when form is true); nullopt when an escape is malformed.
std::optional<std::string> PercentDecode(std::string_view in, bool form = false);

}  // namespace poste::web
