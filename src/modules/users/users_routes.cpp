#include "modules/users/users_routes.hpp"

#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/json_body.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/users/users_service.hpp"

namespace poste::users {

namespace {

using web::Concat;
using web::Dump;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

const web::Principal& Caller(const web::RequestContext& ctx) {
  if (!ctx.principal) throw AppError(ErrorCode::kUnauthorized, "Authentication is required.");
  return *ctx.principal;
}

std::int64_t IdParam(const web::RequestContext& ctx) {
  const auto& text = ctx.Param("id");
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    throw AppError::NotFound("No such user.");
  }
  return id;
}

// Typed readers of an object body: a wrong type is a 422 on that field; absent gives nullopt.
class Body {
 public:
  explicit Body(const web::Request& request) : json_(web::ParseJsonBody(request)) {
    if (!json_.is_object())
      throw AppError::BadRequest("The body must be a JSON object.", {{"body", "invalid_type", "expected an object"}});
  }
  std::optional<std::string> String(const char* name) {
    auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) return Wrong(name, "a string"), std::nullopt;
    return it->get<std::string>();
  }
  std::optional<bool> Bool(const char* name) {
    auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) return Wrong(name, "a boolean"), std::nullopt;
    return it->get<bool>();
  }
  std::optional<std::vector<std::int64_t>> Ids(const char* name) {
    auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return std::nullopt;
    if (!it->is_array()) return Wrong(name, "an array of ids"), std::nullopt;
    std::vector<std::int64_t> ids;
    for (const auto& v : *it) {
      if (!v.is_number_integer()) return Wrong(name, "an array of ids"), std::nullopt;
      ids.push_back(v.get<std::int64_t>());
    }
    return ids;
  }
  void Done() {
    if (!errors_.empty()) throw AppError::Validation(std::move(errors_));
  }

 private:
  void Wrong(const char* name, const char* expected) {
    errors_.push_back({name, "invalid_type", std::string("must be ") + expected});
  }
  nlohmann::json json_;
  std::vector<FieldError> errors_;
};

nlohmann::json PageJson(const store::UserPage& page) {
  return web::PageJson(
      page.items, [](const auto& x) { return ToJson(x); }, page.next_cursor);
}

}  // namespace

void RegisterRoutes(web::Router& router, UsersService& service, UsersRouteGuards guards) {
  auto api = router.Group("/api/v1");
  const auto admin = Concat(guards.user, guards.admin);
  const auto self_or_admin = Concat(guards.user, guards.self_or_admin);

  api.Get(
      "/users",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto& r = ctx.request;
        store::ListOptions o;
        o.limit = static_cast<int>(audit::QueryInt(r, "limit", 1, store::kMaxListLimit).value_or(50));
        o.cursor = audit::QueryInt(r, "cursor", 1, kMaxId);
        o.site_id = audit::QueryInt(r, "site", 1, kMaxId);
        if (auto role = r.QueryParam("role")) {
          if (!ValidateRole(*role).empty()) {
            throw AppError::BadRequest("The query parameter role is invalid.",
                                       {{"role", "invalid", "admin or editor"}});
          }
          o.role = *role;
        }
        if (auto active = r.QueryParam("active")) {
          if (*active != "true" && *active != "false") {
            throw AppError::BadRequest("The query parameter active is invalid.",
                                       {{"active", "invalid", "true or false"}});
          }
          o.active = *active == "true";
        }
        web::Principal caller = Caller(ctx);
        auto page = co_await blocking([&] { return service.List(caller, o); });
        co_return web::Response::Json(200, Dump(PageJson(page)));
      },
      {}, admin);

  api.Post(
      "/users",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        Body body(ctx.request);
        CreateUser req;
        req.email = body.String("email").value_or("");
        req.name = body.String("name").value_or("");
        req.password = body.String("password").value_or("");
        req.role = body.String("role").value_or(std::string(kRoleEditor));
        req.active = body.Bool("active").value_or(true);
        req.site_ids = body.Ids("site_ids").value_or(std::vector<std::int64_t>{});
        body.Done();
        web::Principal caller = Caller(ctx);
        auto origin = audit::OriginOf(ctx);
        auto user = co_await blocking([&] { return service.Create(caller, origin, req); });
        auto response = web::Response::Json(201, Dump(ToJson(user)));
        response.headers.Set("Location", "/api/v1/users/" + std::to_string(user.id));
        co_return response;
      },
      {}, admin);

  api.Get(
      "/users/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = IdParam(ctx);
        web::Principal caller = Caller(ctx);
        auto user = co_await blocking([&] { return service.Get(caller, id); });
        co_return web::Response::Json(200, Dump(ToJson(user)));
      },
      {}, self_or_admin);

  api.Patch(
      "/users/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = IdParam(ctx);
        Body body(ctx.request);
        UpdateUser req;
        req.email = body.String("email");
        req.name = body.String("name");
        req.password = body.String("password");
        req.current_password = body.String("current_password");
        req.role = body.String("role");
        req.active = body.Bool("active");
        req.site_ids = body.Ids("site_ids");
        body.Done();
        web::Principal caller = Caller(ctx);
        auto origin = audit::OriginOf(ctx);
        auto user = co_await blocking([&] { return service.Update(caller, origin, id, req); });
        co_return web::Response::Json(200, Dump(ToJson(user)));
      },
      {}, self_or_admin);

  api.Delete(
      "/users/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = IdParam(ctx);
        web::Principal caller = Caller(ctx);
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Delete(caller, origin, id); });
        co_return web::Response::Empty(204);
      },
      {}, admin);
}

}  // namespace poste::users
