#include "modules/seo/seo_service.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <system_error>
#include <vector>

#include "db/database.hpp"
#include "jobs/job.hpp"
#include "jobs/job_queue.hpp"
#include "lib/validate/slug.hpp"
#include "modules/audit/audit_service.hpp"
#include "modules/content/content_service.hpp"
#include "modules/seo/seo_file.hpp"
#include "modules/seo/seo_store.hpp"
#include "modules/sites/sites_store.hpp"

namespace poste::seo {

namespace {

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

PageKey ParseOrThrow(std::string_view page_key) {
  auto key = ParsePageKey(page_key);
  if (!key) throw BadPageKey();
  return *key;
}

const char* const kRobotsDefault = "index, follow";

// The first of these fields of the entry that holds a non-empty string.
std::string EntryString(const content::Entry& e, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = e.data.find(name);
    if (it != e.data.end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  }
  return "";
}

// Markdown's markup characters, dropped from an excerpt (the text stays readable).
std::string StripMarkdown(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '#' || c == '*' || c == '_' || c == '`' || c == '>' || c == '[' || c == ']') continue;
    out += c;
  }
  return out;
}

// An excerpt of a text field's value ("" when the entry has no such text); markdown loses its markup.
std::string FieldExcerpt(const content::Collection& c, const content::Entry& e, const std::string& name) {
  auto it = e.data.find(name);
  if (it == e.data.end() || !it->is_string() || it->get<std::string>().empty()) return "";
  const auto& text = it->get_ref<const std::string&>();
  const auto* field = c.Field(name);
  const bool markdown = field && field->type == content::FieldType::kMarkdown;
  return Excerpt(markdown ? StripMarkdown(text) : text, kRecommendedDescriptionChars);
}

// The entry's description, excerpt or summary field, else its first text field that is not its title, name or
// slug.
std::string EntryDescription(const content::Collection& c, const content::Entry& e) {
  for (const char* name : {"description", "excerpt", "summary"}) {
    if (auto text = FieldExcerpt(c, e, name); !text.empty()) return text;
  }
  for (const auto& field : c.fields) {
    using content::FieldType;
    if (field.type != FieldType::kText && field.type != FieldType::kLongText && field.type != FieldType::kMarkdown) {
      continue;
    }
    if (field.name == "title" || field.name == "name" || field.name == "slug") continue;
    if (auto text = FieldExcerpt(c, e, field.name); !text.empty()) return text;
  }
  return "";
}

const std::string& First(std::initializer_list<const std::string*> candidates) {
  for (const auto* c : candidates) {
    if (!c->empty()) return *c;
  }
  return **std::prev(candidates.end());
}

}  // namespace

// Everything the fallbacks of one page read.
struct SeoService::Context {
  sites::Site site;
  SeoDefaults defaults;
  PageKey key;
  std::optional<PageSeo> stored;
  std::optional<content::Collection> collection;
  std::optional<content::Entry> entry;
};

struct SeoService::SiteSeo {
  Context base;
  std::map<std::string, PageSeo> by_key;
  std::vector<content::Collection> collections;
};

SeoService::SeoService(db::Database& db, jobs::JobQueue& queue, content::ContentService& content, std::string data_dir,
                       Clock now_ms)
    : db_(db),
      queue_(queue),
      content_(content),
      data_dir_(std::move(data_dir)),
      now_ms_(now_ms ? std::move(now_ms) : Clock(SystemNowMs)) {}

SeoService::Context SeoService::Load(std::int64_t site_id, const PageKey& key, bool public_only) {
  Context ctx;
  ctx.key = key;
  const std::string page = key.ToString();
  db_.Read([&](soci::session& s) {
    auto site = sites::store::GetById(s, site_id);
    if (!site) throw AppError::NotFound("No such site.");
    ctx.site = std::move(*site);
    ctx.defaults = store::GetDefaults(s, site_id).value_or(SeoDefaults{});
    ctx.stored = store::GetPage(s, site_id, page);
  });
  if (key.kind == PageKind::kCollection || key.kind == PageKind::kEntry) {
    ctx.collection = content_.GetCollection(site_id, key.collection);  // 404 when absent
  }
  if (key.kind == PageKind::kEntry) {
    ctx.entry = content_.GetEntry(site_id, key.collection, std::to_string(key.entry_id));
    if (public_only && ctx.entry->status != content::EntryStatus::kPublished) {
      throw AppError::NotFound("No such entry.");
    }
  }
  return ctx;
}

ResolvedSeo SeoService::Resolve(const Context& ctx) const {
  static const std::string kEmpty;
  const PageSeo empty_page;
  const PageSeo& p = ctx.stored ? *ctx.stored : empty_page;
  const auto& site = ctx.site;
  const auto& d = ctx.defaults;

  std::string entry_title, entry_description;
  if (ctx.entry) {
    entry_title = EntryString(*ctx.entry, {"title", "name"});
    if (entry_title.empty()) entry_title = ctx.collection->name + " #" + std::to_string(ctx.entry->id);
    entry_description = EntryDescription(*ctx.collection, *ctx.entry);
  }
  const std::string& collection_name = ctx.collection ? ctx.collection->name : kEmpty;
  const std::string& collection_description = ctx.collection ? ctx.collection->description : kEmpty;
  const std::string site_description = Excerpt(site.description, kMaxDescriptionChars);

  ResolvedSeo r;
  r.page = ctx.key.ToString();
  const std::string& base_title = First({&p.title, &entry_title, &collection_name, &site.name});
  const bool is_site_name = &base_title == &site.name || base_title == site.name;
  r.title = ctx.key.kind == PageKind::kHome || is_site_name ? base_title : ApplyTemplate(d.title_template, base_title);
  r.description = First(
      {&p.description, &entry_description, &collection_description, &d.description, &site_description, &site.name});
  r.keywords = p.keywords;
  r.canonical_url = p.canonical_url;
  r.robots = p.robots.empty() ? kRobotsDefault : p.robots;

  r.og.title = First({&p.og.title, &r.title});
  r.og.description = First({&p.og.description, &r.description});
  r.og.image = First({&p.og.image, &p.twitter.image, &d.og_image});
  r.og.type = !p.og.type.empty() ? p.og.type : (ctx.key.kind == PageKind::kEntry ? "article" : "website");
  r.og_site_name = site.name;
  r.og_locale = site.locale;

  r.twitter.title = First({&p.twitter.title, &r.og.title});
  r.twitter.description = First({&p.twitter.description, &r.og.description});
  r.twitter.image = First({&p.twitter.image, &r.og.image});
  r.twitter.card = !p.twitter.card.empty()   ? p.twitter.card
                   : r.twitter.image.empty() ? "summary"
                                             : "summary_large_image";
  r.twitter_site = d.twitter_handle;
  r.json_ld = p.json_ld;
  return r;
}

// What every page of a site starts from: the site, its defaults, its stored pages by key, its collections.
SeoService::SiteSeo SeoService::LoadSite(std::int64_t site_id) {
  SiteSeo out;
  std::vector<PageSeo> stored;
  db_.Read([&](soci::session& s) {
    auto site = sites::store::GetById(s, site_id);
    if (!site) throw AppError::NotFound("No such site.");
    out.base.site = std::move(*site);
    out.base.defaults = store::GetDefaults(s, site_id).value_or(SeoDefaults{});
    stored = store::ListPages(s, site_id);
  });
  for (auto& p : stored) out.by_key.emplace(p.page, std::move(p));
  out.collections = content_.ListCollections(site_id);
  return out;
}

std::vector<PageView> SeoService::List(std::int64_t site_id) {
  auto [base, by_key, collections] = LoadSite(site_id);

  std::vector<PageView> out;
  auto add = [&](Context ctx) {
    PageView view;
    if (auto it = by_key.find(ctx.key.ToString()); it != by_key.end()) {
      ctx.stored = it->second;
      view.stored = it->second;
      view.exists = true;
      view.warnings = Warnings(it->second);
      by_key.erase(it);
    } else {
      view.stored.page = ctx.key.ToString();
    }
    view.resolved = Resolve(ctx);
    out.push_back(std::move(view));
  };
  for (auto kind : {PageKind::kHome, PageKind::kAbout, PageKind::kContact}) {
    Context ctx = base;
    ctx.key = {kind, "", 0};
    add(std::move(ctx));
  }
  for (const auto& c : collections) {
    Context ctx = base;
    ctx.key = {PageKind::kCollection, c.slug, 0};
    ctx.collection = c;
    add(std::move(ctx));
  }
  // The rest: entries (and pages of collections deleted since, shown so that they can be deleted).
  for (auto& [page, stored_page] : by_key) {
    auto key = ParsePageKey(page);
    if (!key) continue;
    Context ctx = base;
    ctx.key = *key;
    ctx.stored = stored_page;
    PageView view{stored_page, true, {}, Warnings(stored_page)};
    try {
      if (key->kind == PageKind::kEntry || key->kind == PageKind::kCollection) {
        ctx.collection = content_.GetCollection(site_id, key->collection);
      }
      if (key->kind == PageKind::kEntry) {
        ctx.entry = content_.GetEntry(site_id, key->collection, std::to_string(key->entry_id));
      }
    } catch (const AppError& e) {
      if (e.code() != ErrorCode::kNotFound) throw;
      ctx.collection.reset();
      ctx.entry.reset();
    }
    view.resolved = Resolve(ctx);
    out.push_back(std::move(view));
  }
  return out;
}

PageView SeoService::Get(std::int64_t site_id, std::string_view page_key) {
  const auto key = ParseOrThrow(page_key);
  auto ctx = Load(site_id, key, false);
  PageView view;
  view.exists = ctx.stored.has_value();
  if (ctx.stored) {
    view.stored = *ctx.stored;
    view.warnings = Warnings(*ctx.stored);
  } else {
    view.stored.page = key.ToString();
  }
  view.resolved = Resolve(ctx);
  return view;
}

PageView SeoService::Put(const audit::Origin& origin, std::int64_t site_id, std::string_view page_key, PageSeo page) {
  const auto key = ParseOrThrow(page_key);
  auto ctx = Load(site_id, key, false);  // 404 for a collection or an entry that does not exist
  page.page = key.ToString();
  const auto now = now_ms_();
  db_.Write([&](soci::session& s) {
    const bool existed = store::GetPage(s, site_id, page.page).has_value();
    store::PutPage(s, site_id, page, now);
    auto snapshot = ToJson(page);
    snapshot.erase("created_at"), snapshot.erase("updated_at");
    audit::Record(s, audit::EntryFrom(origin, existed ? "seo.page.update" : "seo.page.create", "seo_page",
                                      std::to_string(site_id) + ":" + page.page, site_id, snapshot));
    EnqueueRegenerate(s, site_id);
    ctx.stored = store::GetPage(s, site_id, page.page);
  });
  Committed(site_id);
  PageView view;
  view.exists = true;
  view.stored = ctx.stored.value_or(page);
  view.warnings = Warnings(view.stored);
  view.resolved = Resolve(ctx);
  return view;
}

void SeoService::Delete(const audit::Origin& origin, std::int64_t site_id, std::string_view page_key) {
  const auto key = ParseOrThrow(page_key);
  const std::string page = key.ToString();
  db_.Write([&](soci::session& s) {
    auto before = store::GetPage(s, site_id, page);
    if (!before || !store::DeletePage(s, site_id, page)) throw AppError::NotFound("This page has no SEO of its own.");
    auto snapshot = ToJson(*before);
    snapshot.erase("created_at"), snapshot.erase("updated_at");
    audit::Record(s, audit::EntryFrom(origin, "seo.page.delete", "seo_page", std::to_string(site_id) + ":" + page,
                                      site_id, snapshot));
    EnqueueRegenerate(s, site_id);
  });
  Committed(site_id);
}

SeoDefaults SeoService::GetDefaults(std::int64_t site_id) {
  return db_.ReadValue([&](soci::session& s) { return store::GetDefaults(s, site_id).value_or(SeoDefaults{}); });
}

SeoDefaults SeoService::PutDefaults(const audit::Origin& origin, std::int64_t site_id, const SeoDefaults& defaults,
                                    std::vector<FieldError>& warnings) {
  const auto now = now_ms_();
  auto stored = db_.WriteValue([&](soci::session& s) {
    if (!sites::store::GetById(s, site_id)) throw AppError::NotFound("No such site.");
    auto before = store::GetDefaults(s, site_id).value_or(SeoDefaults{});
    store::PutDefaults(s, site_id, defaults, now);
    auto after = ToJson(defaults);
    after.erase("updated_at");
    auto was = ToJson(before);
    was.erase("updated_at");
    audit::Record(s, audit::EntryFrom(origin, "seo.defaults.update", "seo_defaults", std::to_string(site_id), site_id,
                                      {{"from", was}, {"to", after}}));
    EnqueueRegenerate(s, site_id);
    return store::GetDefaults(s, site_id).value_or(defaults);
  });
  Committed(site_id);
  warnings = Warnings(stored);
  return stored;
}

ResolvedSeo SeoService::ResolvePublic(std::int64_t site_id, std::string_view page_key) {
  return Resolve(Load(site_id, ParseOrThrow(page_key), true));
}

nlohmann::json SeoService::SeoJson(std::int64_t site_id) {
  auto [base, by_key, collections] = LoadSite(site_id);

  nlohmann::json pages = nlohmann::json::object();
  auto add = [&](Context ctx) {
    const auto page = ctx.key.ToString();
    if (auto it = by_key.find(page); it != by_key.end()) ctx.stored = it->second;
    pages[page] = ToJson(Resolve(ctx));
  };
  for (auto kind : {PageKind::kHome, PageKind::kAbout, PageKind::kContact}) {
    Context ctx = base;
    ctx.key = {kind, "", 0};
    add(std::move(ctx));
  }
  std::map<std::string, const content::Collection*> by_slug;
  for (const auto& c : collections) {
    by_slug[c.slug] = &c;
    Context ctx = base;
    ctx.key = {PageKind::kCollection, c.slug, 0};
    ctx.collection = c;
    add(std::move(ctx));
  }
  for (const auto& [page, stored_page] : by_key) {
    auto key = ParsePageKey(page);
    if (!key || key->kind != PageKind::kEntry) continue;
    auto collection = by_slug.find(key->collection);
    if (collection == by_slug.end()) continue;
    std::optional<content::Entry> entry;
    try {
      entry = content_.GetEntry(site_id, key->collection, std::to_string(key->entry_id));
    } catch (const AppError& e) {
      if (e.code() != ErrorCode::kNotFound) throw;
    }
    if (!entry || entry->status != content::EntryStatus::kPublished) continue;  // drafts never leave the admin
    Context ctx = base;
    ctx.key = *key;
    ctx.collection = *collection->second;
    ctx.entry = std::move(entry);
    add(std::move(ctx));
  }
  auto defaults = ToJson(base.defaults);
  defaults.erase("updated_at");
  const auto& site = base.site;
  return {{"site",
           {{"id", site.id},
            {"slug", site.slug},
            {"name", site.name},
            {"description", site.description},
            {"locale", site.locale},
            {"domains", site.domains}}},
          {"defaults", std::move(defaults)},
          {"pages", std::move(pages)}};
}

void SeoService::EnqueueRegenerate(soci::session& s, std::int64_t site_id) {
  const auto generation = store::BumpGeneration(s, site_id);
  jobs::EnqueueOptions options;
  options.idempotency_key =
      std::string(kRegenerateJobKind) + ":" + std::to_string(site_id) + ":" + std::to_string(generation);
  queue_.EnqueueIn(s, kRegenerateJobKind, nlohmann::json{{"site_id", site_id}, {"generation", generation}}.dump(),
                   options);
}

void SeoService::Committed(std::int64_t site_id) {
  queue_.NotifyEnqueued();
  if (on_changed) on_changed(site_id);
}

void SeoService::ScheduleRegenerate(std::int64_t site_id) {
  bool enqueued = false;
  db_.Write([&](soci::session& s) {
    if (!sites::store::GetById(s, site_id)) return;  // deleted: nothing to regenerate
    EnqueueRegenerate(s, site_id);
    enqueued = true;
  });
  if (enqueued) queue_.NotifyEnqueued();
}

void SeoService::RunRegenerateJob(const jobs::Job& job) {
  auto payload = nlohmann::json::parse(job.payload, nullptr, false);
  if (!payload.is_object() || !payload.contains("site_id") || !payload["site_id"].is_number_integer()) {
    throw jobs::PermanentError("seo.regenerate: the payload has no site_id");
  }
  const auto site_id = payload["site_id"].get<std::int64_t>();
  const auto generation = payload.value("generation", std::int64_t{0});
  std::optional<sites::Site> site;
  std::int64_t current = 0;
  db_.Read([&](soci::session& s) {
    site = sites::store::GetById(s, site_id);
    current = store::Generation(s, site_id);
  });
  if (!site) return;                 // deleted since
  if (generation < current) return;  // a newer job will write a newer document
  WriteFileAtomically(FilePath(site->slug), DumpHtmlSafe(SeoJson(site_id), 2) + "\n");
  // A site deleted or renamed while the file was being written: its folder was removed or moved after the
  // change committed, and must not come back under the old slug (unless another site took that slug since).
  const bool gone = db_.ReadValue([&](soci::session& s) {
    const auto now = sites::store::GetById(s, site_id);
    return (!now || now->slug != site->slug) && !sites::store::GetByIdOrSlug(s, site->slug);
  });
  if (gone) ForgetSiteFiles(data_dir_, site->slug);
}

std::string SeoFilePath(const std::string& data_dir, std::string_view site_slug) {
  return (std::filesystem::path(data_dir) / "sites" / std::string(site_slug) / "seo.json").string();
}

void ForgetSiteFiles(const std::string& data_dir, std::string_view site_slug) {
  if (!validate::IsValidSlug(site_slug)) {
    spdlog::error("seo: not removing the files of a site whose slug is not a slug ({} bytes)", site_slug.size());
    return;
  }
  const auto dir = std::filesystem::path(data_dir) / "sites" / std::string(site_slug);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (ec) spdlog::warn("site {}: could not remove {}: {}", site_slug, dir.string(), ec.message());
}

void MoveSiteFiles(const std::string& data_dir, std::string_view from_slug, std::string_view to_slug) {
  if (!validate::IsValidSlug(from_slug) || !validate::IsValidSlug(to_slug)) {
    spdlog::error("seo: not moving the files of a site whose slug is not a slug ({} and {} bytes)", from_slug.size(),
                  to_slug.size());
    return;
  }
  if (from_slug == to_slug) return;
  const auto root = std::filesystem::path(data_dir) / "sites";
  const auto from = root / std::string(from_slug);
  const auto to = root / std::string(to_slug);
  std::error_code ec;
  if (!std::filesystem::is_directory(from, ec)) return;  // nothing published yet
  std::filesystem::rename(from, to, ec);                 // replaces an empty folder, not one with files
  if (!ec) return;
  std::error_code check;
  if (!std::filesystem::is_directory(to, check)) {
    spdlog::warn("site {}: could not move {} to {}: {}", to_slug, from.string(), to.string(), ec.message());
    return;
  }
  std::vector<std::filesystem::path> entries;  // listed first: the folder changes as they move
  for (std::filesystem::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    entries.push_back(it->path());
  }
  for (const auto& entry : entries) {
    const auto target = to / entry.filename();
    std::error_code one;
    if (std::filesystem::exists(target, one)) continue;  // the newer one, written under the new slug
    std::filesystem::rename(entry, target, one);
    if (one) {
      spdlog::warn("site {}: could not move {} to {}: {}", to_slug, entry.string(), target.string(), one.message());
    }
  }
  std::filesystem::remove_all(from, ec);
  if (ec) spdlog::warn("site {}: could not remove {}: {}", to_slug, from.string(), ec.message());
}

}  // namespace poste::seo
