#include "modules/sites/sites_routes.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/json_body.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/sites/sites_service.hpp"

namespace poste::sites {

namespace {

using web::Concat;
using web::Dump;
using web::ObjectBody;
using web::SiteId;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

const web::Principal& Caller(const web::RequestContext& ctx) {
  if (!ctx.principal) throw AppError(ErrorCode::kUnauthorized, "Authentication is required.");
  return *ctx.principal;
}

// Typed readers of a JSON object: a wrong type is a 422 on that field; absent (or null) gives nullopt.
class Fields {
 public:
  Fields(const nlohmann::json& json, std::string prefix, std::vector<FieldError>& errors)
      : json_(json), prefix_(std::move(prefix)), errors_(errors) {}

  bool Has(const char* name) const { return json_.contains(name); }
  std::optional<std::string> String(const char* name) {
    auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) return Wrong(name, "a string"), std::nullopt;
    return it->get<std::string>();
  }
  // Present and null: a nullopt inside (remove); absent: nullopt.
  std::optional<std::optional<std::int64_t>> NullableId(const char* name) {
    auto it = json_.find(name);
    if (it == json_.end()) return std::nullopt;
    if (it->is_null()) return std::optional<std::int64_t>{};
    if (!it->is_number_integer() || it->get<std::int64_t>() <= 0)
      return Wrong(name, "a positive id or null"), std::nullopt;
    return std::optional<std::int64_t>{it->get<std::int64_t>()};
  }
  std::optional<std::vector<std::string>> Strings(const char* name) {
    auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return std::nullopt;
    if (!it->is_array()) return Wrong(name, "an array of strings"), std::nullopt;
    std::vector<std::string> out;
    for (const auto& v : *it) {
      if (!v.is_string()) return Wrong(name, "an array of strings"), std::nullopt;
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  std::optional<bool> Bool(const char* name) {
    auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) return Wrong(name, "a boolean"), std::nullopt;
    return it->get<bool>();
  }
  // A nested object: nullptr when absent or null (a non-object is a field error).
  const nlohmann::json* Object(const char* name) {
    auto it = json_.find(name);
    if (it == json_.end() || it->is_null()) return nullptr;
    if (!it->is_object()) return Wrong(name, "an object"), nullptr;
    return &*it;
  }

 private:
  void Wrong(const char* name, const char* expected) {
    errors_.push_back({prefix_ + name, "invalid_type", std::string("must be ") + expected});
  }
  const nlohmann::json& json_;
  std::string prefix_;
  std::vector<FieldError>& errors_;
};

void ThrowIfAny(std::vector<FieldError>& errors) {
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
}

NewSite ParseNewSite(const nlohmann::json& json) {
  std::vector<FieldError> errors;
  Fields f(json, "", errors);
  NewSite site;
  site.slug = f.String("slug").value_or("");
  site.name = f.String("name").value_or("");
  site.description = f.String("description").value_or("");
  if (auto v = f.String("locale")) site.locale = *v;
  if (auto v = f.String("timezone")) site.timezone = *v;
  if (auto v = f.NullableId("logo_media_id")) site.logo_media_id = *v;
  if (const auto* contact = f.Object("contact")) {
    Fields c(*contact, "contact.", errors);
    site.contact.email = c.String("email").value_or("");
    site.contact.phone = c.String("phone").value_or("");
    site.contact.address = c.String("address").value_or("");
  }
  if (const auto* social = f.Object("social")) site.social = SocialFromJson(*social, errors);
  site.domains = f.Strings("domains").value_or(std::vector<std::string>{});
  ThrowIfAny(errors);
  return site;
}

SitePatch ParsePatch(const nlohmann::json& json) {
  std::vector<FieldError> errors;
  Fields f(json, "", errors);
  SitePatch p;
  p.slug = f.String("slug");
  p.name = f.String("name");
  p.description = f.String("description");
  p.locale = f.String("locale");
  p.timezone = f.String("timezone");
  p.logo_media_id = f.NullableId("logo_media_id");
  if (const auto* contact = f.Object("contact")) {
    Fields c(*contact, "contact.", errors);
    p.contact_email = c.String("email");
    p.contact_phone = c.String("phone");
    p.contact_address = c.String("address");
  }
  if (const auto* social = f.Object("social")) p.social = SocialFromJson(*social, errors);
  p.domains = f.Strings("domains");
  ThrowIfAny(errors);
  return p;
}

}  // namespace

void RegisterRoutes(web::Router& router, SitesService& service, SitesRouteGuards guards) {
  auto api = router.Group("/api/v1");
  const auto& user = guards.user;
  const auto admin = Concat(guards.user, guards.admin);
  const auto site = Concat(guards.user, guards.site_access);
  const auto site_admin = Concat(site, guards.admin);  // 404 for a site out of reach before 403

  api.Get(
      "/sites",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        store::ListOptions o;
        o.limit = static_cast<int>(audit::QueryInt(ctx.request, "limit", 1, store::kMaxListLimit).value_or(50));
        o.cursor = audit::QueryInt(ctx.request, "cursor", 1, kMaxId);
        web::Principal caller = Caller(ctx);
        auto page = co_await blocking([&] { return service.List(caller, o); });
        co_return web::Response::Json(200, Dump(web::PageJson(
                                               page.items, [](const auto& x) { return ToJson(x); }, page.next_cursor)));
      },
      {}, user);

  api.Post(
      "/sites",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        auto req = ParseNewSite(ObjectBody(ctx.request));
        web::Principal caller = Caller(ctx);
        auto origin = audit::OriginOf(ctx);
        auto created = co_await blocking([&] { return service.Create(caller, origin, req); });
        auto response = web::Response::Json(201, Dump(ToJson(created)));
        response.headers.Set("Location", "/api/v1/sites/" + std::to_string(created.id));
        co_return response;
      },
      {}, admin);

  api.Get(
      "/sites/{site}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = SiteId(ctx);
        auto found = co_await blocking([&] { return service.Get(id); });
        co_return web::Response::Json(200, Dump(ToJson(found)));
      },
      {}, site);

  api.Patch(
      "/sites/{site}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = SiteId(ctx);
        auto patch = ParsePatch(ObjectBody(ctx.request));
        auto origin = audit::OriginOf(ctx);
        auto updated = co_await blocking([&] { return service.Update(origin, id, patch); });
        co_return web::Response::Json(200, Dump(ToJson(updated)));
      },
      {}, site);

  api.Delete(
      "/sites/{site}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = SiteId(ctx);
        web::Principal caller = Caller(ctx);
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Delete(caller, origin, id); });
        co_return web::Response::Empty(204);
      },
      {}, site_admin);

  api.Get(
      "/sites/{site}/settings",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = SiteId(ctx);
        auto settings = co_await blocking([&] { return service.Settings(id); });
        co_return web::Response::Json(
            200, Dump({{"items", web::ItemsJson(settings, [](const auto& x) { return ToJson(x); })}}));
      },
      {}, site);

  api.Put(
      "/sites/{site}/settings/{key}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = SiteId(ctx);
        const std::string key = ctx.Param("key");
        auto json = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        Fields f(json, "", errors);
        auto value = f.String("value");
        auto secret = f.Bool("secret");
        if (!value && errors.empty()) errors.push_back({"value", "required", "a string value is required"});
        ThrowIfAny(errors);
        auto origin = audit::OriginOf(ctx);
        auto stored =
            co_await blocking([&] { return service.PutSetting(origin, id, key, *value, secret.value_or(false)); });
        co_return web::Response::Json(200, Dump(ToJson(stored)));
      },
      {}, site);

  api.Delete(
      "/sites/{site}/settings/{key}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = SiteId(ctx);
        const std::string key = ctx.Param("key");
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.DeleteSetting(origin, id, key); });
        co_return web::Response::Empty(204);
      },
      {}, site);
}

}  // namespace poste::sites
