#include "modules/content/content_routes.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/json_body.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/content/content_fields.hpp"
#include "modules/content/content_service.hpp"

namespace poste::content {
namespace {

using web::Concat;
using web::Dump;
using web::ObjectBody;
using web::PathId;
using web::SiteId;

// ?force=true|false (absent: false), as for media items.
bool ForceParam(const web::RequestContext& ctx) {
  auto text = ctx.request.QueryParam("force");
  if (text && *text != "true" && *text != "false") {
    throw AppError::BadRequest("The query parameter force is invalid.",
                               {{"force", "invalid", "true or false is expected"}});
  }
  return text && *text == "true";
}

std::optional<std::string> IfMatch(const web::RequestContext& ctx) {
  auto v = ctx.request.headers.Get("If-Match");
  if (!v) return std::nullopt;
  return std::string(*v);
}

std::optional<std::string> OptionalString(const nlohmann::json& json, const char* name,
                                          std::vector<FieldError>& errors) {
  auto it = json.find(name);
  if (it == json.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) return errors.push_back({name, "invalid_type", "must be a string"}), std::nullopt;
  return it->get<std::string>();
}

std::optional<std::int64_t> OptionalId(const nlohmann::json& json, const char* name, std::vector<FieldError>& errors) {
  auto it = json.find(name);
  if (it == json.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<std::int64_t>() <= 0) {
    return errors.push_back({name, "invalid_type", "must be a positive entry id"}), std::nullopt;
  }
  return it->get<std::int64_t>();
}

void ThrowIfAny(std::vector<FieldError>& errors) {
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
}

EntryInput ParseEntryInput(const nlohmann::json& json) {
  std::vector<FieldError> errors;
  EntryInput input;
  if (auto status = OptionalString(json, "status", errors)) {
    input.status = ParseStatus(*status);
    if (!input.status) errors.push_back({"status", "invalid", "draft, published or archived"});
  }
  if (auto it = json.find("data"); it != json.end() && !it->is_null()) {
    if (!it->is_object()) {
      errors.push_back({"data", "invalid_type", "must be an object of field values"});
    } else {
      input.data = *it;
    }
  }
  if (auto it = json.find("publish_at"); it != json.end()) {
    if (it->is_null()) {
      input.publish_at = std::optional<std::int64_t>{};
    } else if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
      input.publish_at = std::optional<std::int64_t>{it->get<std::int64_t>()};
    } else if (it->is_string() && it->get<std::string>().find_first_not_of("0123456789") != std::string::npos) {
      auto ms = ParseTimeBound(it->get<std::string>());
      if (ms && *ms >= 0) {
        input.publish_at = std::optional<std::int64_t>{*ms};
      } else {
        errors.push_back({"publish_at", "invalid", "epoch milliseconds or an RFC 3339 date-time, or null"});
      }
    } else {
      errors.push_back({"publish_at", "invalid", "epoch milliseconds or an RFC 3339 date-time, or null"});
    }
  }
  ThrowIfAny(errors);
  return input;
}

std::vector<FieldDef> ParseFields(const nlohmann::json& json, std::vector<FieldError>& errors) {
  auto it = json.find("fields");
  if (it == json.end() || it->is_null()) return {};
  return FieldsFromJson(*it, errors);
}

web::Response EntryResponse(int status, const Entry& e) {
  auto response = web::Response::Json(status, Dump(ToJson(e)));
  response.headers.Set("ETag", ETagOf(e));
  return response;
}

nlohmann::json PageJson(const EntryPage& page) {
  return web::PageJson(
      page.items, [](const auto& x) { return ToJson(x); }, page.next_cursor);
}

}  // namespace

void RegisterRoutes(web::Router& router, ContentService& service, ContentRouteGuards guards) {
  auto api = router.Group("/api/v1/sites/{site}/collections");
  const auto site = Concat(guards.user, guards.site_access);

  api.Get(
      "",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto collections = co_await blocking([&] { return service.ListCollections(site_id); });
        co_return web::Response::Json(
            200, Dump({{"items", web::ItemsJson(collections, [](const auto& x) { return ToJson(x); })}}));
      },
      {}, site);

  api.Post(
      "",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        auto json = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        auto origin = audit::OriginOf(ctx);
        Collection created;
        if (json.contains("preset")) {
          auto preset = OptionalString(json, "preset", errors);
          if (!preset && errors.empty()) errors.push_back({"preset", "required", "formations or pages"});
          ThrowIfAny(errors);
          created = co_await blocking([&] { return service.AddPreset(origin, site_id, *preset); });
        } else {
          NewCollection input;
          input.name = OptionalString(json, "name", errors).value_or("");
          input.slug = OptionalString(json, "slug", errors).value_or("");
          input.description = OptionalString(json, "description", errors).value_or("");
          input.fields = ParseFields(json, errors);
          ThrowIfAny(errors);
          created = co_await blocking([&] { return service.CreateCollection(origin, site_id, input); });
        }
        auto response = web::Response::Json(201, Dump(ToJson(created)));
        response.headers.Set("Location", "/api/v1/sites/" + std::to_string(site_id) + "/collections/" + created.slug);
        co_return response;
      },
      {}, site);

  api.Get(
      "/{collection}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        auto c = co_await blocking([&] { return service.GetCollection(site_id, slug); });
        co_return web::Response::Json(200, Dump(ToJson(c)));
      },
      {}, site);

  api.Patch(
      "/{collection}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        auto json = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        CollectionPatch patch;
        patch.name = OptionalString(json, "name", errors);
        patch.description = OptionalString(json, "description", errors);
        if (json.contains("fields") && !json["fields"].is_null()) patch.fields = ParseFields(json, errors);
        ThrowIfAny(errors);
        auto origin = audit::OriginOf(ctx);
        auto c = co_await blocking([&] { return service.UpdateCollection(origin, site_id, slug, patch); });
        co_return web::Response::Json(200, Dump(ToJson(c)));
      },
      {}, site);

  api.Delete(
      "/{collection}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        const bool force = ForceParam(ctx);
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.DeleteCollection(origin, site_id, slug, force); });
        co_return web::Response::Empty(204);
      },
      {}, site);

  api.Get(
      "/{collection}/entries",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        auto query = ParseEntryQuery(ctx.request.query);
        auto page = co_await blocking([&] { return service.ListEntries(site_id, slug, query); });
        co_return web::Response::Json(200, Dump(PageJson(page)));
      },
      {}, site);

  api.Post(
      "/{collection}/entries",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        auto input = ParseEntryInput(ObjectBody(ctx.request));
        auto origin = audit::OriginOf(ctx);
        auto e = co_await blocking([&] { return service.CreateEntry(origin, site_id, slug, input); });
        auto response = EntryResponse(201, e);
        response.headers.Set("Location", "/api/v1/sites/" + std::to_string(site_id) + "/collections/" + slug +
                                             "/entries/" + std::to_string(e.id));
        co_return response;
      },
      {}, site);

  api.Post(
      "/{collection}/entries/reorder",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        auto json = ObjectBody(ctx.request);
        std::vector<FieldError> errors;
        ReorderRequest request;
        request.id = OptionalId(json, "id", errors);
        request.before = OptionalId(json, "before", errors);
        request.after = OptionalId(json, "after", errors);
        if (auto it = json.find("ids"); it != json.end() && !it->is_null()) {
          if (!it->is_array() || it->empty() || it->size() > 10000) {
            errors.push_back({"ids", "invalid_type", "a non-empty array of entry ids"});
          } else {
            for (const auto& id : *it) {
              if (!id.is_number_integer() || id.get<std::int64_t>() <= 0) {
                errors.push_back({"ids", "invalid_type", "a non-empty array of entry ids"});
                break;
              }
              request.ids.push_back(id.get<std::int64_t>());
            }
          }
        }
        ThrowIfAny(errors);
        auto origin = audit::OriginOf(ctx);
        auto order = co_await blocking([&] { return service.Reorder(origin, site_id, slug, request); });
        co_return web::Response::Json(200, Dump({{"ids", order}}));
      },
      {}, site);

  api.Get(
      "/{collection}/entries/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        const std::string id = ctx.Param("id");
        auto e = co_await blocking([&] { return service.GetEntry(site_id, slug, id); });
        co_return EntryResponse(200, e);
      },
      {}, site);

  api.Patch(
      "/{collection}/entries/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        const auto id = PathId(ctx, "id", "entry");
        auto input = ParseEntryInput(ObjectBody(ctx.request));
        auto origin = audit::OriginOf(ctx);
        auto if_match = IfMatch(ctx);
        auto e = co_await blocking([&] { return service.UpdateEntry(origin, site_id, slug, id, input, if_match); });
        co_return EntryResponse(200, e);
      },
      {}, site);

  api.Delete(
      "/{collection}/entries/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        const auto id = PathId(ctx, "id", "entry");
        auto origin = audit::OriginOf(ctx);
        auto if_match = IfMatch(ctx);
        const bool force = ForceParam(ctx);
        co_await blocking([&] { service.DeleteEntry(origin, site_id, slug, id, if_match, force); });
        co_return web::Response::Empty(204);
      },
      {}, site);

  api.Get(
      "/{collection}/entries/{id}/revisions",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        const auto id = PathId(ctx, "id", "entry");
        auto revisions = co_await blocking([&] { return service.Revisions(site_id, slug, id); });
        co_return web::Response::Json(
            200, Dump({{"items", web::ItemsJson(revisions, [](const auto& x) { return ToJson(x); })}}));
      },
      {}, site);

  api.Post(
      "/{collection}/entries/{id}/revisions/{rev}/restore",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const std::string slug = ctx.Param("collection");
        const auto id = PathId(ctx, "id", "entry");
        const auto rev = PathId(ctx, "rev", "revision");
        auto origin = audit::OriginOf(ctx);
        auto if_match = IfMatch(ctx);
        auto e = co_await blocking([&] { return service.RestoreRevision(origin, site_id, slug, id, rev, if_match); });
        co_return EntryResponse(200, e);
      },
      {}, site);
}

}  // namespace poste::content
