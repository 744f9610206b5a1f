#include "modules/media/media_service.hpp"

#include <soci/soci.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "db/database.hpp"
#include "jobs/job.hpp"
#include "jobs/job_queue.hpp"
#include "lib/error.hpp"
#include "lib/ids.hpp"
#include "lib/validate/text.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/media/media_files.hpp"
#include "modules/media/media_names.hpp"
#include "modules/media/media_refs_store.hpp"
#include "modules/media/media_store.hpp"
#include "modules/webhooks/webhook_events.hpp"

namespace poste::media {

namespace {

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AppError NoItem() { return AppError::NotFound("No such media item."); }

AppError Refused(std::string field, std::string code, std::string message) {
  std::string public_message = message;
  public_message[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(public_message[0])));
  return AppError(ErrorCode::kValidation, public_message + ".", {},
                  {{std::move(field), std::move(code), std::move(message)}});
}

void RemoveQuietly(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (ec) spdlog::warn("could not remove media file {}: {}", path, ec.message());
}

// The item as webhook subscribers and the audit log see it.
nlohmann::json Summary(const MediaItem& item) {
  return {{"id", item.id},
          {"filename", item.filename},
          {"content_type", item.content_type},
          {"size", item.size_bytes},
          {"sha256", item.sha256}};
}

void CheckText(std::vector<FieldError>& errors, const std::optional<std::string>& value, const char* field,
               std::size_t max_chars, bool multiline) {
  if (!value) return;
  if (!validate::IsValidUtf8(*value)) {
    errors.push_back({field, "invalid_utf8", "must be valid UTF-8"});
  } else if (validate::HasControlChars(*value, multiline)) {
    errors.push_back({field, "control_characters", "must not hold control characters"});
  } else if (validate::Utf8Length(*value) > max_chars) {
    errors.push_back({field, "too_long", "at most " + std::to_string(max_chars) + " characters"});
  }
}

}  // namespace

std::vector<FieldError> ValidatePatch(const MediaPatch& patch) {
  std::vector<FieldError> errors;
  CheckText(errors, patch.alt, "alt", kMaxAltChars, false);
  CheckText(errors, patch.caption, "caption", kMaxCaptionChars, true);
  return errors;
}

MediaService::MediaService(db::Database& db, jobs::JobQueue& queue, MediaOptions options)
    : db_(db), queue_(queue), options_(std::move(options)) {}

std::string MediaService::SiteDir(std::int64_t site_id) const { return options_.root + "/" + std::to_string(site_id); }

std::string MediaService::PathOf(const MediaItem& item) const {
  return SiteDir(item.site_id) + "/" + StoredFileName(item.id, item.sha256, item.ext);
}

std::string MediaService::VariantPathOf(const MediaItem& item, int width) const {
  return SiteDir(item.site_id) + "/" + VariantFileName(item.id, item.sha256, width);
}

std::unique_ptr<UploadFile> MediaService::StartUpload(std::int64_t site_id) {
  return std::make_unique<UploadFile>(SiteDir(site_id), options_.max_upload_bytes);
}

UploadOutcome MediaService::Commit(const audit::Origin& origin, std::int64_t site_id, UploadFile& file,
                                   const UploadMeta& meta) {
  file.Close();
  if (file.size() == 0) throw Refused("file", "empty", "the file is empty");
  {
    auto errors = ValidatePatch({meta.alt, meta.caption});
    if (!errors.empty()) throw AppError::Validation(std::move(errors));
  }
  const CleanName name = SanitizeFilename(meta.filename);
  const std::string sniffed = files::SniffMime(file.path());
  const MediaType* type = TypeForSniffed(sniffed);
  if (!type) {
    throw AppError(ErrorCode::kUnsupportedMedia, "This type of file is not accepted.", "sniffed " + sniffed,
                   {{"file", "unsupported_type",
                     "the content is " + (sniffed.empty() ? std::string("of an unknown type") : sniffed) +
                         ", which is not an accepted type"}});
  }
  for (const auto& inner : name.inner_exts) {
    if (IsDangerousExtension(inner)) {
      throw Refused("filename", "dangerous_extension", "the file name hides the executable extension ." + inner);
    }
  }
  if (!name.ext.empty() &&
      std::find(type->extensions.begin(), type->extensions.end(), name.ext) == type->extensions.end()) {
    throw Refused("filename", "extension_mismatch",
                  "the file is " + std::string(type->content_type) + " but its name ends in ." + name.ext);
  }
  if (type->scan_markup && file.markup_seen()) {
    throw Refused("file", "polyglot", "the file hides HTML or script markup inside " + std::string(type->content_type));
  }
  MediaItem item;
  item.site_id = site_id;
  item.sha256 = file.sha256_hex();
  item.ext = std::string(type->extensions.front());
  item.content_type = std::string(type->content_type);
  item.family = std::string(type->family);
  item.size_bytes = static_cast<std::int64_t>(file.size());
  item.filename = name.name.empty() ? "upload." + item.ext : name.name;
  item.alt = meta.alt;
  item.caption = meta.caption;
  item.created_by = origin.user_id;
  item.created_at = item.updated_at = NowMs();
  if (type->raster) {
    auto size = files::ReadImageSize(file.path(), item.content_type);
    if (!size) throw Refused("file", "invalid_image", "the image cannot be read as " + item.content_type);
    if (static_cast<std::int64_t>(size->width) * size->height > kMaxImagePixels) {
      throw Refused("file", "image_too_large",
                    "the image has more than " + std::to_string(kMaxImagePixels / 1'000'000) + " million pixels");
    }
    item.width = size->width;
    item.height = size->height;
  }

  std::string moved_to;
  try {
    auto outcome = db_.WriteValue([&](soci::session& s) -> UploadOutcome {
      if (auto existing = store::FindBySha(s, site_id, item.sha256)) return {*existing, false};
      auto id = store::Insert(s, item);
      if (!id) {  // the same bytes, committed by a concurrent upload since the lookup
        auto existing = store::FindBySha(s, site_id, item.sha256);
        if (!existing) throw AppError::Internal("media conflict without a row");
        return {*existing, false};
      }
      MediaItem created = item;
      created.id = *id;
      file.MoveTo(PathOf(created));
      moved_to = file.path();
      if (type->raster) {
        jobs::EnqueueOptions o;
        o.idempotency_key = std::string(kDeriveJobKind) + ":" + std::to_string(created.id);
        queue_.EnqueueIn(s, kDeriveJobKind, nlohmann::json{{"site_id", site_id}, {"media_id", created.id}}.dump(), o);
      }
      webhooks::EmitIn(queue_, s, site_id, "media.created", ToJson(created));
      audit::Record(
          s, audit::EntryFrom(origin, "media.create", "media", std::to_string(created.id), site_id, Summary(created)));
      return {created, true};
    });
    if (outcome.created) queue_.NotifyEnqueued();
    return outcome;
  } catch (...) {
    if (!moved_to.empty()) RemoveQuietly(moved_to);
    throw;
  }
}

MediaItem MediaService::Get(std::int64_t site_id, std::int64_t id) {
  auto item = db_.ReadValue([&](soci::session& s) { return store::Get(s, site_id, id); });
  if (!item) throw NoItem();
  return *item;
}

std::vector<Use> MediaService::Uses(std::int64_t site_id, std::int64_t id) {
  auto refs = db_.ReadValue([&](soci::session& s) { return store::RefsTo(s, site_id, id); });
  std::vector<Use> out;
  for (auto& r : refs) out.push_back({std::move(r.owner_type), r.owner_id});
  return out;
}

MediaPage MediaService::List(std::int64_t site_id, const ListFilter& filter) {
  std::vector<FieldError> errors;
  if (filter.family && std::find(kFamilies.begin(), kFamilies.end(), *filter.family) == kFamilies.end()) {
    errors.push_back({"type", "invalid", "one of image, document, audio, video"});
  }
  if (filter.q && (!validate::IsValidUtf8(*filter.q) || validate::HasControlChars(*filter.q, false))) {
    errors.push_back({"q", "invalid", "must be valid UTF-8 without control characters"});
  }
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  return db_.ReadValue([&](soci::session& s) { return store::List(s, site_id, filter); });
}

MediaItem MediaService::Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id,
                               const MediaPatch& patch) {
  auto errors = ValidatePatch(patch);
  if (!errors.empty()) throw AppError::Validation(std::move(errors));
  const auto now = NowMs();
  return db_.WriteValue([&](soci::session& s) {
    auto before = store::Get(s, site_id, id);
    if (!before || !store::UpdateText(s, site_id, id, patch, now)) throw NoItem();
    auto after = store::Get(s, site_id, id);
    if (!after) throw NoItem();
    nlohmann::json changes = nlohmann::json::object();
    if (before->alt != after->alt) changes["alt"] = {{"from", before->alt}, {"to", after->alt}};
    if (before->caption != after->caption) changes["caption"] = {{"from", before->caption}, {"to", after->caption}};
    if (!changes.empty()) {
      audit::Record(s, audit::EntryFrom(origin, "media.update", "media", std::to_string(id), site_id, changes));
    }
    return *after;
  });
}

void MediaService::Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, bool force) {
  bool cleared = false;
  auto item = db_.WriteValue([&](soci::session& s) {
    auto found = store::Get(s, site_id, id);
    if (!found) throw NoItem();
    auto uses = store::RefsTo(s, site_id, id);
    if (!uses.empty() && !force) {
      std::vector<FieldError> fields;
      for (const auto& u : uses) {
        fields.push_back({"uses", "in_use", u.owner_type + " " + std::to_string(u.owner_id) + " uses this item"});
      }
      throw AppError::Conflict("The media item is in use (" + std::to_string(uses.size()) +
                                   "); delete it with force=true to remove it anyway.",
                               std::move(fields));
    }
    if (!uses.empty() && clear_uses) cleared = clear_uses(s, origin, site_id, id);
    // media_refs and media_variants rows go with the item (ON DELETE CASCADE).
    if (!store::Delete(s, site_id, id)) throw NoItem();
    auto summary = Summary(*found);
    summary["forced"] = !uses.empty();
    webhooks::EmitIn(queue_, s, site_id, "media.deleted", summary);
    audit::Record(s, audit::EntryFrom(origin, "media.delete", "media", std::to_string(id), site_id, summary));
    return *found;
  });
  queue_.NotifyEnqueued();
  if (cleared && uses_cleared) {
    try {
      uses_cleared(site_id);
    } catch (const std::exception& error) {  // committed: report, do not fail the request
      spdlog::error("media: uses_cleared for site {} failed: {}", site_id, error.what());
    }
  }
  RemoveQuietly(PathOf(item));
  // Every size the job may have made, recorded or not (a job may be running right now: it cleans up after
  // itself when it finds the item gone).
  for (int width : kVariantWidths) RemoveQuietly(VariantPathOf(item, width));
}

void MediaService::ForgetSite(std::int64_t site_id) const {
  const std::string dir = SiteDir(site_id);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) spdlog::warn("site {}: could not remove the media folder {}: {}", site_id, dir, ec.message());
}

void MediaService::Derive(const jobs::Job& job) {
  auto payload = nlohmann::json::parse(job.payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("site_id") || !payload.contains("media_id") ||
      !payload["site_id"].is_number_integer() || !payload["media_id"].is_number_integer()) {
    throw jobs::PermanentError("media.derive: the payload needs integer site_id and media_id");
  }
  const std::int64_t site_id = payload["site_id"], media_id = payload["media_id"];
  auto item = db_.ReadValue([&](soci::session& s) { return store::Get(s, site_id, media_id); });
  if (!item) return;  // deleted since: nothing to make
  const MediaType* type = TypeForContentType(item->content_type);
  if (!type || !type->raster || !item->width) return;

  std::vector<Variant> made;
  std::vector<std::string> paths;
  const std::string source = PathOf(*item);
  for (int width : kVariantWidths) {
    if (width >= *item->width) continue;  // never upscale, nor copy at the same size
    const std::string final_path = VariantPathOf(*item, width);
    // A dot name: never served, and the cleanup of an interrupted job is a glob away.
    const std::string temp = SiteDir(site_id) + "/.derive-" + RandomHex(8) + ".webp";
    try {
      auto size = files::WriteWebp(source, item->content_type, width, temp);
      std::filesystem::rename(temp, final_path);
      made.push_back({size.width, size.height, static_cast<std::int64_t>(std::filesystem::file_size(final_path))});
      paths.push_back(final_path);
    } catch (const std::exception& e) {
      RemoveQuietly(temp);
      if (!std::filesystem::exists(source)) return;  // deleted while we worked
      throw std::runtime_error("media.derive " + std::to_string(media_id) + " at " + std::to_string(width) + ": " +
                               e.what());
    }
  }
  bool gone = false;
  db_.Write([&](soci::session& s) { gone = !store::ReplaceVariants(s, site_id, media_id, made); });
  if (gone) {
    for (const auto& p : paths) RemoveQuietly(p);
  }
}

std::optional<ServedFile> MediaService::Resolve(std::int64_t site_id, std::string_view name) {
  auto parsed = ParseServedName(name);
  if (!parsed) return std::nullopt;
  auto item = db_.ReadValue([&](soci::session& s) { return store::Get(s, site_id, parsed->id); });
  if (!item || item->sha256.compare(0, parsed->hash.size(), parsed->hash) != 0) return std::nullopt;
  ServedFile out;
  if (parsed->width) {
    auto v = std::find_if(item->variants.begin(), item->variants.end(),
                          [&](const Variant& v) { return v.width == *parsed->width; });
    if (v == item->variants.end()) return std::nullopt;
    out.path = VariantPathOf(*item, *parsed->width);
    out.content_type = "image/webp";
    out.etag = "\"" + item->sha256 + "-" + std::to_string(*parsed->width) + "\"";
    auto dot = item->filename.rfind('.');
    out.filename = item->filename.substr(0, dot) + "-" + std::to_string(*parsed->width) + ".webp";
    return out;
  }
  if (parsed->ext != item->ext) return std::nullopt;
  out.path = PathOf(*item);
  out.content_type = item->content_type;
  out.etag = "\"" + item->sha256 + "\"";
  out.filename = item->filename;
  out.attachment = item->content_type == "image/svg+xml";
  return out;
}

}  // namespace poste::media
