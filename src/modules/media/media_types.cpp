#include "modules/media/media_types.hpp"

#include <nlohmann/json.hpp>

#include "modules/media/media_names.hpp"

namespace poste::media {

const std::vector<MediaType>& AllowedTypes() {
  static const std::vector<MediaType> types = {
      {"image/jpeg", "image", {"image/jpeg"}, {"jpg", "jpeg", "jpe"}, true, true},
      {"image/png", "image", {"image/png"}, {"png"}, true, true},
      {"image/gif", "image", {"image/gif"}, {"gif"}, true, true},
      {"image/webp", "image", {"image/webp"}, {"webp"}, true, true},
      {"image/avif", "image", {"image/avif"}, {"avif"}, true, true},
      // SVG can carry scripts: served only as an attachment in a CSP sandbox (media_routes.cpp).
      {"image/svg+xml", "image", {"image/svg+xml"}, {"svg"}, false, false},
      {"application/pdf", "document", {"application/pdf"}, {"pdf"}, false, false},
      {"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
       "document",
       {"application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
       {"docx"},
       false,
       false},
      {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
       "document",
       {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
       {"xlsx"},
       false,
       false},
      {"application/vnd.openxmlformats-officedocument.presentationml.presentation",
       "document",
       {"application/vnd.openxmlformats-officedocument.presentationml.presentation"},
       {"pptx"},
       false,
       false},
      {"application/vnd.oasis.opendocument.text",
       "document",
       {"application/vnd.oasis.opendocument.text"},
       {"odt"},
       false,
       false},
      {"application/vnd.oasis.opendocument.spreadsheet",
       "document",
       {"application/vnd.oasis.opendocument.spreadsheet"},
       {"ods"},
       false,
       false},
      {"application/vnd.oasis.opendocument.presentation",
       "document",
       {"application/vnd.oasis.opendocument.presentation"},
       {"odp"},
       false,
       false},
      {"application/msword", "document", {"application/msword"}, {"doc"}, false, false},
      {"application/vnd.ms-excel", "document", {"application/vnd.ms-excel"}, {"xls"}, false, false},
      {"audio/mpeg", "audio", {"audio/mpeg"}, {"mp3"}, false, true},
      {"audio/ogg", "audio", {"audio/ogg"}, {"ogg", "oga"}, false, true},
      {"audio/wav", "audio", {"audio/x-wav", "audio/wav", "audio/vnd.wave"}, {"wav"}, false, true},
      {"audio/mp4", "audio", {"audio/x-m4a", "audio/mp4"}, {"m4a"}, false, true},
      {"video/mp4", "video", {"video/mp4"}, {"mp4", "m4v"}, false, true},
      {"video/webm", "video", {"video/webm"}, {"webm"}, false, true},
  };
  return types;
}

const MediaType* TypeForSniffed(std::string_view sniffed_mime) {
  for (const auto& t : AllowedTypes()) {
    for (auto s : t.sniffed) {
      if (s == sniffed_mime) return &t;
    }
  }
  return nullptr;
}

const MediaType* TypeForContentType(std::string_view content_type) {
  for (const auto& t : AllowedTypes()) {
    if (t.content_type == content_type) return &t;
  }
  return nullptr;
}

nlohmann::json ToJson(const MediaItem& item) {
  nlohmann::json variants = nlohmann::json::array();
  for (const auto& v : item.variants) {
    variants.push_back({{"width", v.width},
                        {"height", v.height},
                        {"size", v.size_bytes},
                        {"url", FileUrl(item.site_id, VariantFileName(item.id, item.sha256, v.width))}});
  }
  auto optional_int = [](const std::optional<int>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  return {{"id", item.id},
          {"site_id", item.site_id},
          {"url", FileUrl(item.site_id, StoredFileName(item.id, item.sha256, item.ext))},
          {"filename", item.filename},
          {"content_type", item.content_type},
          {"family", item.family},
          {"size", item.size_bytes},
          {"sha256", item.sha256},
          {"width", optional_int(item.width)},
          {"height", optional_int(item.height)},
          {"alt", item.alt},
          {"caption", item.caption},
          {"created_by", item.created_by ? nlohmann::json(*item.created_by) : nlohmann::json()},
          {"created_at", item.created_at},
          {"updated_at", item.updated_at},
          {"variants", std::move(variants)}};
}

nlohmann::json ToJson(const Use& use) { return {{"owner_type", use.owner_type}, {"owner_id", use.owner_id}}; }

}  // namespace poste::media
