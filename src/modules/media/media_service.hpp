#pragma once
// The media library's domain logic: accepting an upload written to a temporary file (sniffing, checks against
// the allowlist and the file name, de-duplication per site), listing, editing alt text and caption, deleting
// (refused while in use unless forced), making responsive sizes (the media.derive job), and resolving the
// public file names. Every change writes its audit entry and webhook event in its transaction. No HTTP here:
// media_routes.cpp streams bodies in and files out.
//
// Every member blocks (SQL, files, image work): call it through co_await blocking(...) or from a job.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/error.hpp"
#include "modules/audit/audit_types.hpp"
#include "modules/media/media_types.hpp"
#include "modules/media/upload_file.hpp"

namespace poste::db {
class Database;
}
namespace soci {
class session;
}
namespace poste::jobs {
class JobQueue;
struct Job;
}  // namespace poste::jobs

namespace poste::media {

inline constexpr std::string_view kDeriveJobKind = "media.derive";

struct MediaOptions {
  std::string root;  // <data.dir>/media; a site's files are in <root>/<site_id>/
  std::uint64_t max_upload_bytes = kDefaultMaxUploadBytes;
};

// What came with an upload besides its bytes.
struct UploadMeta {
  std::string filename;  // as the client sent it (sanitised here); may be empty
  std::string alt;
  std::string caption;
};

struct UploadOutcome {
  MediaItem item;
  bool created = false;  // false: the site already had these bytes, and `item` is that item
};

// A stored file ready to be served.
struct ServedFile {
  std::string path;
  std::string content_type;
  std::string etag;      // quoted, strong
  std::string filename;  // for Content-Disposition
  bool attachment = false;
};

class MediaService {
 public:
  MediaService(db::Database& db, jobs::JobQueue& queue, MediaOptions options);

  std::uint64_t max_upload_bytes() const { return options_.max_upload_bytes; }
  std::string SiteDir(std::int64_t site_id) const;
  std::string PathOf(const MediaItem& item) const;
  std::string VariantPathOf(const MediaItem& item, int width) const;

  // A temporary file in the site's folder for an upload's bytes, limited to max_upload_bytes (413 beyond).
  std::unique_ptr<UploadFile> StartUpload(std::int64_t site_id);
  // Closes the file, checks it, and stores it as a new item (moving the file to its final name) or answers the
  // site's existing item with the same bytes. 422 for an empty file, a name whose extension disagrees with
  // the content or hides an executable extension, markup hidden in an image / audio / video file, an image
  // libvips cannot read or that is too large; 415 for a type outside the allowlist.
  UploadOutcome Commit(const audit::Origin& origin, std::int64_t site_id, UploadFile& file, const UploadMeta& meta);

  // 404 when the site has no such item.
  MediaItem Get(std::int64_t site_id, std::int64_t id);
  std::vector<Use> Uses(std::int64_t site_id, std::int64_t id);
  // 422 on a bad filter.
  MediaPage List(std::int64_t site_id, const ListFilter& filter);
  // 422 on bad alt text or caption; 404 when gone.
  MediaItem Update(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, const MediaPatch& patch);
  // 409 listing the uses when the item is used and force is false; 404 when gone. With force, clear_uses
  // removes the item from its users in the same transaction. Removes the original and every responsive size
  // after the commit.
  void Delete(const audit::Origin& origin, std::int64_t site_id, std::int64_t id, bool force);

  // Set while wiring: the owners' side of a forced deletion. clear_uses runs inside the deleting transaction
  // and removes the item from the objects that use it (the content module's entries), answering whether any
  // changed; uses_cleared then runs after the commit (the public cache drops the site's answers).
  std::function<bool(soci::session&, const audit::Origin&, std::int64_t site_id, std::int64_t media_id)> clear_uses;
  std::function<void(std::int64_t site_id)> uses_cleared;

  // After a site's deletion has committed: removes its folder (<root>/<site_id>, originals and sizes). A file
  // that cannot be removed is logged, never thrown: the site is gone either way.
  void ForgetSite(std::int64_t site_id) const;

  // The media.derive job ({"site_id", "media_id"}): the WebP sizes narrower than the original; safe to run
  // twice; nothing left behind for an item deleted meanwhile.
  void Derive(const jobs::Job& job);

  // The file a public name ("{id}-{hash}.{ext}" or "{id}-{hash}-{width}.webp") stands for on the site.
  std::optional<ServedFile> Resolve(std::int64_t site_id, std::string_view name);

 private:
  db::Database& db_;
  jobs::JobQueue& queue_;
  MediaOptions options_;
};

// Field errors of alt text and caption (valid UTF-8, no control characters, lengths).
std::vector<FieldError> ValidatePatch(const MediaPatch& patch);

}  // namespace poste::media
