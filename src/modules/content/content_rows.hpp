#pragma once
// Reading collection and entry rows (shared by content_store.cpp and content_list.cpp; internal to the
// module's store files).
#include <soci/soci.h>

#include <string>

#include "db/query.hpp"
#include "modules/content/content_fields.hpp"
#include "modules/content/content_types.hpp"

namespace poste::content::store {

inline constexpr const char* kEntryColumns =
    "e.id, e.site_id, e.collection_id, e.status, e.position, e.slug, e.data, e.version, e.publish_at, e.created_at,"
    " e.updated_at, e.published_at, e.html";

// The into() targets of kEntryColumns.
struct EntryRow {
  long long id = 0, site_id = 0, collection_id = 0, position = 0, version = 0, publish_at = 0, created_at = 0,
            updated_at = 0, published_at = 0;
  std::string status, slug, data;
  std::string html;  // rendered markdown as stored (migration 0008): JSON, "" for none; NULL not rendered yet
  soci::indicator slug_ind = soci::i_ok, publish_ind = soci::i_ok, published_ind = soci::i_ok, html_ind = soci::i_ok;

  void BindTo(db::Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(collection_id);
    q.Into(status);
    q.Into(position);
    q.Into(slug, slug_ind);
    q.Into(data);
    q.Into(version);
    q.Into(publish_at, publish_ind);
    q.Into(created_at);
    q.Into(updated_at);
    q.Into(published_at, published_ind);
    q.Into(html, html_ind);
  }
  Entry Get(const Collection& c) const {
    Entry e;
    e.id = id, e.site_id = site_id, e.collection_id = collection_id, e.collection = c.slug;
    e.status = ParseStatus(status).value_or(EntryStatus::kDraft);
    e.position = position, e.version = version, e.created_at = created_at, e.updated_at = updated_at;
    if (slug_ind == soci::i_ok) e.slug = slug;
    if (publish_ind == soci::i_ok) e.publish_at = publish_at;
    if (published_ind == soci::i_ok) e.published_at = published_at;
    e.data = nlohmann::json::parse(data, nullptr, false);  // written by this store from a json object
    if (!e.data.is_object()) e.data = nlohmann::json::object();
    if (html_ind != soci::i_ok) {
      e.html = MarkdownHtml(c.fields, e.data);
    } else if (!html.empty()) {
      e.html = nlohmann::json::parse(html, nullptr, false);  // written by this store
      if (!e.html.is_object()) e.html = MarkdownHtml(c.fields, e.data);
    }
    return e;
  }
};

}  // namespace poste::content::store
