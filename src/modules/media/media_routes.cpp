#include "modules/media/media_routes.hpp"

#include <charconv>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>

#include "lib/async/blocking.hpp"
#include "lib/error.hpp"
#include "lib/web/body_source.hpp"
#include "lib/web/content_disposition.hpp"
#include "lib/web/file_body.hpp"
#include "lib/web/json_body.hpp"
#include "lib/web/route_helpers.hpp"
#include "modules/audit/audit_routes.hpp"
#include "modules/media/media_http.hpp"
#include "modules/media/media_names.hpp"
#include "modules/media/media_service.hpp"
#include "modules/media/multipart_reader.hpp"

namespace poste::media {

namespace {

using web::Concat;
using web::Dump;
using web::SiteId;

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t kChunkBytes = 64 * 1024;
// Room for a multipart body's boundaries, part headers, alt text and caption around the file itself.
constexpr std::size_t kMultipartOverhead = 256 * 1024;
constexpr std::size_t kMaxFieldBytes = 16 * 1024;  // alt and caption parts (their character limits are lower)
constexpr const char* kImmutable = "public, max-age=31536000, immutable";

std::optional<std::int64_t> PositiveId(std::string_view text) {
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

std::int64_t ItemId(const web::RequestContext& ctx) {
  auto id = PositiveId(ctx.Param("id"));
  if (!id) throw AppError::NotFound("No such media item.");
  return *id;
}

nlohmann::json ItemJson(const MediaItem& item, const std::vector<Use>* uses) {
  auto j = ToJson(item);
  if (uses) {
    auto& list = j["uses"] = nlohmann::json::array();
    for (const auto& u : *uses) list.push_back(ToJson(u));
  }
  return j;
}

std::optional<std::string> QueryText(const web::Request& request, const char* name, std::size_t max_bytes) {
  auto text = request.QueryParam(name);
  if (text && text->size() > max_bytes) {
    throw AppError::BadRequest(std::string("The query parameter ") + name + " is too long.",
                               {{name, "too_long", "at most " + std::to_string(max_bytes) + " bytes"}});
  }
  return text;
}

// Reads the upload's body into `file` (and `meta` for multipart fields), one chunk at a time, each chunk handed
// to the blocking pool (disk writes, hashing, multipart parsing) while the I/O thread waits for the next.
web::Task<void> Receive(web::Request& request, const std::optional<std::string>& boundary, UploadFile& file,
                        UploadMeta& meta) {
  auto& body = web::BodyOf(request);
  std::vector<char> chunk(kChunkBytes);
  std::size_t n = 0;
  std::optional<MultipartReader> reader;
  bool in_file = false, seen_file = false;
  std::string* field = nullptr;
  if (boundary) {
    MultipartReader::Handler handler;
    handler.begin = [&](const MultipartReader::Part& part) {
      if (part.name == "file") {
        if (seen_file) {
          throw AppError::BadRequest("Send one file per upload.", {{"file", "duplicate", "only one file part"}});
        }
        in_file = seen_file = true;
        meta.filename = part.filename.value_or("");
      } else if (part.name == "alt") {
        field = &meta.alt;
        field->clear();
      } else if (part.name == "caption") {
        field = &meta.caption;
        field->clear();
      }
    };
    handler.data = [&](std::string_view bytes) {
      if (in_file) {
        file.Write(bytes);
      } else if (field) {
        if (field->size() + bytes.size() > kMaxFieldBytes) {
          throw AppError::Validation({{field == &meta.alt ? "alt" : "caption", "too_long", "the field is too long"}});
        }
        field->append(bytes);
      }
    };
    handler.end = [&] {
      in_file = false;
      field = nullptr;
    };
    reader.emplace(*boundary, std::move(handler));
  }
  while ((n = co_await body.Read(chunk)) > 0) {
    co_await blocking([&] {
      std::string_view bytes(chunk.data(), n);
      if (reader) {
        reader->Feed(bytes);
      } else {
        file.Write(bytes);
      }
    });
  }
  if (reader) {
    reader->Finish();
    if (!seen_file) throw AppError::Validation({{"file", "required", "a part named file is required"}});
  }
}

web::Task<web::Response> Upload(MediaService& service, web::RequestContext& ctx) {
  const auto site = SiteId(ctx);
  auto& request = ctx.request;
  const std::string content_type(request.headers.Get("Content-Type").value_or(""));
  UploadMeta meta;
  std::optional<std::string> boundary;
  if (content_type.size() >= 10 && web::IEquals(std::string_view(content_type).substr(0, 10), "multipart/")) {
    boundary = FormDataBoundary(content_type);
    if (!boundary) {
      throw AppError::BadRequest("The multipart body needs multipart/form-data with a valid boundary.",
                                 {{"Content-Type", "invalid", "multipart/form-data; boundary=... is expected"}});
    }
  } else {
    if (auto name = QueryText(request, "filename", 1024)) {
      meta.filename = *name;
    } else if (auto disposition = request.headers.Get("Content-Disposition")) {
      auto parsed = ParseHeaderValue(*disposition);
      if (!parsed) {
        throw AppError::BadRequest("The Content-Disposition header is malformed.",
                                   {{"Content-Disposition", "invalid", "attachment; filename=\"...\" is expected"}});
      }
      meta.filename = DispositionFilename(*parsed).value_or("");
    }
    meta.alt = QueryText(request, "alt", 16 * 1024).value_or("");
    meta.caption = QueryText(request, "caption", 16 * 1024).value_or("");
  }
  const auto origin = audit::OriginOf(ctx);
  std::unique_ptr<UploadFile> file = co_await blocking([&] { return service.StartUpload(site); });
  std::optional<UploadOutcome> outcome;
  std::exception_ptr failure;
  try {
    co_await Receive(request, boundary, *file, meta);
    outcome = co_await blocking([&] { return service.Commit(origin, site, *file, meta); });
  } catch (...) {
    failure = std::current_exception();
  }
  // The temporary file goes (unless it became the item's file) off the I/O thread, before the answer.
  co_await blocking([&] { file.reset(); });
  if (failure) std::rethrow_exception(failure);
  auto response = web::Response::Json(outcome->created ? 201 : 200, Dump(ItemJson(outcome->item, nullptr)));
  response.headers.Set("Location",
                       "/api/v1/sites/" + std::to_string(site) + "/media/" + std::to_string(outcome->item.id));
  co_return response;
}

web::Task<web::Response> ServeFile(MediaService& service, web::RequestContext& ctx) {
  auto site = PositiveId(ctx.Param("site_id"));
  const std::string name = ctx.Param("file");
  if (!site) throw AppError::NotFound("No such file.");
  auto served = co_await blocking([&] { return service.Resolve(*site, name); });
  if (!served) throw AppError::NotFound("No such file.");
  auto file = co_await blocking([&] { return web::FileBodySource::Open(served->path); });
  if (!file) throw AppError::NotFound("No such file.");

  web::Response r;
  r.headers.Set("ETag", served->etag);
  r.headers.Set("Cache-Control", kImmutable);
  r.headers.Set("Accept-Ranges", "bytes");
  const auto& h = ctx.request.headers;
  if (auto inm = h.Get("If-None-Match"); inm && NoneMatchHits(*inm, served->etag)) {
    r.status = 304;
    co_return r;
  }
  r.headers.Set("Content-Type", served->content_type);
  r.headers.Set("Content-Disposition",
                web::ContentDisposition(served->attachment ? "attachment" : "inline", served->filename));
  if (served->attachment) {
    // An SVG may hold scripts: never a document of this origin, even when opened directly.
    r.headers.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'");
  }
  const std::uint64_t size = file->FileSize();
  RangeDecision range;
  if (auto header = h.Get("Range")) {
    auto if_range = h.Get("If-Range");
    if (!if_range || IfRangeAllows(*if_range, served->etag)) range = DecideRange(*header, size);
  }
  switch (range.kind) {
    case RangeDecision::Kind::kUnsatisfiable:
      r.status = 416;
      r.headers.Set("Content-Range", "bytes */" + std::to_string(size));
      r.headers.Remove("Content-Disposition");
      r.headers.Set("Content-Type", "text/plain; charset=utf-8");
      r.body = "The requested range is outside the file.\n";
      co_return r;
    case RangeDecision::Kind::kPart:
      r.status = 206;
      r.headers.Set("Content-Range", "bytes " + std::to_string(range.first) + "-" +
                                         std::to_string(range.first + range.length - 1) + "/" + std::to_string(size));
      file->SetRange(range.first, range.length);
      break;
    case RangeDecision::Kind::kWhole:
      r.status = 200;
      break;
  }
  r.stream = std::move(file);
  co_return r;
}

}  // namespace

void RegisterRoutes(web::Router& router, MediaService& service, MediaRouteGuards guards) {
  auto api = router.Group("/api/v1");
  const auto site = Concat(guards.user, guards.site_access);

  web::RouteOptions upload;
  upload.stream_body = true;
  upload.body_limit = static_cast<std::size_t>(service.max_upload_bytes()) + kMultipartOverhead;
  api.Post(
      "/sites/{site}/media",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> { return Upload(service, ctx); }, upload, site);

  api.Get(
      "/sites/{site}/media",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto id = SiteId(ctx);
        const auto& r = ctx.request;
        ListFilter f;
        f.family = QueryText(r, "type", 32);
        f.q = QueryText(r, "q", 200);
        f.from_ms = audit::QueryInt(r, "from", 0, kMaxId);
        f.to_ms = audit::QueryInt(r, "to", 0, kMaxId);
        f.limit = static_cast<int>(audit::QueryInt(r, "limit", 1, kMaxListLimit).value_or(50));
        f.cursor = audit::QueryInt(r, "cursor", 1, kMaxId);
        auto page = co_await blocking([&] { return service.List(id, f); });
        co_return web::Response::Json(200, Dump(web::PageJson(
                                               page.items, [](const auto& x) { return ToJson(x); }, page.next_cursor)));
      },
      {}, site);

  api.Get(
      "/sites/{site}/media/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = ItemId(ctx);
        auto item = co_await blocking([&] { return service.Get(site_id, id); });
        auto uses = co_await blocking([&] { return service.Uses(site_id, id); });
        co_return web::Response::Json(200, Dump(ItemJson(item, &uses)));
      },
      {}, site);

  api.Patch(
      "/sites/{site}/media/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = ItemId(ctx);
        auto json = web::ParseJsonBody(ctx.request);
        if (!json.is_object()) {
          throw AppError::BadRequest("The body must be a JSON object.",
                                     {{"body", "invalid_type", "expected an object"}});
        }
        MediaPatch patch;
        std::vector<FieldError> errors;
        for (const char* name : {"alt", "caption"}) {
          auto it = json.find(name);
          if (it == json.end() || it->is_null()) continue;
          if (!it->is_string()) {
            errors.push_back({name, "invalid_type", "must be a string"});
            continue;
          }
          (std::string_view(name) == "alt" ? patch.alt : patch.caption) = it->get<std::string>();
        }
        if (!errors.empty()) throw AppError::Validation(std::move(errors));
        auto origin = audit::OriginOf(ctx);
        auto item = co_await blocking([&] { return service.Update(origin, site_id, id, patch); });
        co_return web::Response::Json(200, Dump(ToJson(item)));
      },
      {}, site);

  api.Delete(
      "/sites/{site}/media/{id}",
      [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
        const auto site_id = SiteId(ctx);
        const auto id = ItemId(ctx);
        auto force_text = ctx.request.QueryParam("force");
        if (force_text && *force_text != "true" && *force_text != "false") {
          throw AppError::BadRequest("The query parameter force is invalid.",
                                     {{"force", "invalid", "true or false is expected"}});
        }
        const bool force = force_text && *force_text == "true";
        auto origin = audit::OriginOf(ctx);
        co_await blocking([&] { service.Delete(origin, site_id, id, force); });
        co_return web::Response::Empty(204);
      },
      {}, site);

  router.Root().Get("/media/{site_id}/{file}", [&service](web::RequestContext& ctx) -> web::Task<web::Response> {
    return ServeFile(service, ctx);
  });
}

}  // namespace poste::media
