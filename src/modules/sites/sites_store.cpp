#include "modules/sites/sites_store.hpp"

#include <soci/soci.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <deque>
#include <map>
#include <set>

#include "db/dialect.hpp"
#include "db/query.hpp"
#include "lib/error.hpp"

namespace poste::sites::store {
namespace {

using db::Query;

constexpr const char* kSiteColumns =
    "id, slug, name, description, locale, timezone, logo_media_id, contact_email, contact_phone, contact_address,"
    " social, created_at, updated_at";

// The into() targets of kSiteColumns.
struct SiteRow {
  long long id = 0, logo = 0, created_at = 0, updated_at = 0;
  soci::indicator logo_ind = soci::i_ok;
  std::string social;
  Site site;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site.slug);
    q.Into(site.name);
    q.Into(site.description);
    q.Into(site.locale);
    q.Into(site.timezone);
    q.Into(logo, logo_ind);
    q.Into(site.contact.email);
    q.Into(site.contact.phone);
    q.Into(site.contact.address);
    q.Into(social);
    q.Into(created_at);
    q.Into(updated_at);
  }
  Site Get() const {
    Site out = site;
    out.id = id, out.created_at = created_at, out.updated_at = updated_at;
    if (logo_ind == soci::i_ok) out.logo_media_id = logo;
    std::vector<FieldError> ignored;  // written by this store from a Social, so it parses
    out.social = SocialFromJson(nlohmann::json::parse(social, nullptr, false), ignored);
    return out;
  }
};

AppError SlugTaken() {
  return AppError::Conflict("A site with this slug already exists.",
                            {{"slug", "taken", "this slug is already used by another site"}});
}

AppError DomainTaken(const std::string& domain) {
  return AppError::Conflict("The domain " + domain + " is already used by another site.",
                            {{"domains", "taken", domain + " is already used by another site"}});
}

std::set<std::string> Normalized(const std::vector<std::string>& domains) {
  std::set<std::string> out;
  for (const auto& d : domains) out.insert(NormalizeDomain(d));
  return out;
}

// Replaces the site's domains. ON CONFLICT DO NOTHING rather than catching the violation: the statement that
// finds the conflict knows which domain it is, and a PostgreSQL transaction is not aborted by it.
void ReplaceDomains(soci::session& s, std::int64_t site_id, const std::vector<std::string>& domains,
                    std::int64_t now_ms) {
  long long site = site_id;
  const long long now = now_ms;
  s << "DELETE FROM site_domains WHERE site_id = :site", soci::use(site);
  std::string domain, inserted;
  soci::statement insert = (s.prepare << "INSERT INTO site_domains (domain, site_id, created_at)"
                                         " VALUES (:domain, :site, :created) ON CONFLICT (domain) DO NOTHING"
                                         " RETURNING domain",
                            soci::use(domain), soci::use(site), soci::use(now), soci::into(inserted));
  for (const auto& d : Normalized(domains)) {
    domain = d;
    insert.execute(true);
    if (!insert.got_data()) throw DomainTaken(d);
  }
}

// site id -> its domains (ascending), for the given sites.
std::map<std::int64_t, std::vector<std::string>> DomainsOf(soci::session& s, const std::vector<std::int64_t>& ids) {
  std::map<std::int64_t, std::vector<std::string>> out;
  if (ids.empty()) return out;
  Query q(s);
  long long site = 0;
  std::string domain;
  q.Into(site);
  q.Into(domain);
  const std::string sql =
      "SELECT site_id, domain FROM site_domains WHERE site_id IN (" + q.IntList(ids) + ") ORDER BY site_id, domain";
  if (!q.Execute(sql)) return out;
  do {
    out[site].push_back(domain);
  } while (q.Fetch());
  return out;
}

// One site by a condition whose values q already holds.
std::optional<Site> GetWhere(soci::session& s, Query& q, const std::string& condition) {
  SiteRow row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kSiteColumns) + " FROM sites WHERE " + condition)) return std::nullopt;
  Site site = row.Get();
  site.domains = std::move(DomainsOf(s, {site.id})[site.id]);
  return site;
}

}  // namespace

std::int64_t Insert(soci::session& s, const NewSite& site, std::int64_t now_ms) {
  const long long now = now_ms, logo = site.logo_media_id.value_or(0);
  soci::indicator logo_ind = site.logo_media_id ? soci::i_ok : soci::i_null;
  const std::string social = ToJson(site.social).dump();
  long long id = 0;
  try {
    s << "INSERT INTO sites (slug, name, description, locale, timezone, logo_media_id, contact_email,"
         " contact_phone, contact_address, social, created_at, updated_at) VALUES (:slug, :name, :description,"
         " :locale, :timezone, :logo, :email, :phone, :address, :social, :created, :updated) RETURNING id",
        soci::use(site.slug), soci::use(site.name), soci::use(site.description), soci::use(site.locale),
        soci::use(site.timezone), soci::use(logo, logo_ind), soci::use(site.contact.email),
        soci::use(site.contact.phone), soci::use(site.contact.address), soci::use(social), soci::use(now),
        soci::use(now), soci::into(id);
  } catch (const std::exception& error) {
    if (db::IsUniqueViolation(error)) throw SlugTaken();
    throw;
  }
  ReplaceDomains(s, id, site.domains, now_ms);
  return id;
}

std::optional<Site> GetById(soci::session& s, std::int64_t id) {
  Query q(s);
  return GetWhere(s, q, "id = " + q.Int(id));
}

std::optional<Site> GetBySlug(soci::session& s, std::string_view slug) {
  Query q(s);
  return GetWhere(s, q, "slug = " + q.Text(std::string(slug)));
}

std::optional<Site> GetByIdOrSlug(soci::session& s, std::string_view id_or_slug) {
  if (!IsAllDigits(id_or_slug)) return GetBySlug(s, id_or_slug);
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(id_or_slug.data(), id_or_slug.data() + id_or_slug.size(), id);
  if (ec != std::errc() || end != id_or_slug.data() + id_or_slug.size()) return std::nullopt;  // out of range
  return GetById(s, id);
}

std::optional<Site> FindByDomain(soci::session& s, std::string_view domain) {
  Query q(s);
  return GetWhere(s, q,
                  "id = (SELECT site_id FROM site_domains WHERE domain = " + q.Text(NormalizeDomain(domain)) + ")");
}

SitePage List(soci::session& s, const ListOptions& options) {
  SitePage page;
  if (options.site_ids && options.site_ids->empty()) return page;
  const int limit = std::clamp(options.limit, 1, kMaxListLimit);
  Query q(s);
  SiteRow row;
  row.BindTo(q);
  std::string sql = "SELECT " + std::string(kSiteColumns) + " FROM sites WHERE 1 = 1";
  if (options.site_ids) {
    sql += " AND id IN (" + q.IntList(std::set<std::int64_t>(options.site_ids->begin(), options.site_ids->end())) + ")";
  }
  page = db::NewestFirst<SitePage>(q, std::move(sql), options.cursor, limit, [&] { return row.Get(); });
  std::vector<std::int64_t> ids;
  for (const auto& site : page.items) ids.push_back(site.id);
  auto domains = DomainsOf(s, ids);
  for (auto& site : page.items) site.domains = std::move(domains[site.id]);
  return page;
}

std::optional<Site> Update(soci::session& s, std::int64_t id, const SitePatch& p, std::int64_t now_ms) {
  Query q(s);
  std::string set;
  const auto assign = [&](const char* column, const std::string& placeholder) {
    set += (set.empty() ? "" : ", ") + std::string(column) + " = " + placeholder;
  };
  if (p.slug) assign("slug", q.Text(*p.slug));
  if (p.name) assign("name", q.Text(*p.name));
  if (p.description) assign("description", q.Text(*p.description));
  if (p.locale) assign("locale", q.Text(*p.locale));
  if (p.timezone) assign("timezone", q.Text(*p.timezone));
  if (p.logo_media_id) assign("logo_media_id", q.Int(*p.logo_media_id));
  if (p.contact_email) assign("contact_email", q.Text(*p.contact_email));
  if (p.contact_phone) assign("contact_phone", q.Text(*p.contact_phone));
  if (p.contact_address) assign("contact_address", q.Text(*p.contact_address));
  if (p.social) assign("social", q.Text(ToJson(*p.social).dump()));
  if (set.empty() && !p.domains) return GetById(s, id);
  assign("updated_at", q.Int(now_ms));  // a change of domains alone is a change of the site too
  long long matched = 0;
  q.Into(matched);
  try {
    if (!q.Execute("UPDATE sites SET " + set + " WHERE id = " + q.Int(id) + " RETURNING id")) return std::nullopt;
  } catch (const std::exception& error) {
    if (db::IsUniqueViolation(error)) throw SlugTaken();
    throw;
  }
  if (p.domains) ReplaceDomains(s, id, *p.domains, now_ms);
  return GetById(s, id);
}

bool Delete(soci::session& s, std::int64_t id) {
  const long long site = id;
  long long matched = 0;
  s << "DELETE FROM sites WHERE id = :id RETURNING id", soci::use(site), soci::into(matched);
  return s.got_data();
}

std::vector<Setting> ListSettings(soci::session& s, std::int64_t site_id) {
  const long long site = site_id;
  Setting row;
  int secret = 0;
  long long updated_at = 0;
  soci::statement st =
      (s.prepare << "SELECT key, value, secret, updated_at FROM site_settings"
                    " WHERE site_id = :site ORDER BY key",
       soci::use(site), soci::into(row.key), soci::into(row.value), soci::into(secret), soci::into(updated_at));
  st.execute();
  std::vector<Setting> out;
  while (st.fetch()) {
    out.push_back(row);
    out.back().secret = secret != 0;
    out.back().updated_at = updated_at;
  }
  return out;
}

std::optional<Setting> GetSetting(soci::session& s, std::int64_t site_id, const std::string& key) {
  const long long site = site_id;
  Setting setting;
  int secret = 0;
  long long updated_at = 0;
  s << "SELECT key, value, secret, updated_at FROM site_settings WHERE site_id = :site AND key = :key", soci::use(site),
      soci::use(key), soci::into(setting.key), soci::into(setting.value), soci::into(secret), soci::into(updated_at);
  if (!s.got_data()) return std::nullopt;
  setting.secret = secret != 0;
  setting.updated_at = updated_at;
  return setting;
}

bool PutSetting(soci::session& s, std::int64_t site_id, const std::string& key, const std::string& value, bool secret,
                std::int64_t now_ms) {
  const long long site = site_id, now = now_ms;
  const int is_secret = secret ? 1 : 0;
  long long matched = 0;
  // INSERT ... SELECT from sites: no row (and no foreign-key error) when the site does not exist. The CASTs
  // type PostgreSQL's untyped parameters, which a SELECT list would otherwise read as text.
  s << "INSERT INTO site_settings (site_id, key, value, secret, updated_at)"
       " SELECT id, :key, :value, CAST(:secret AS SMALLINT), CAST(:now AS BIGINT) FROM sites WHERE id = :site"
       " ON CONFLICT (site_id, key) DO UPDATE SET value = excluded.value, secret = excluded.secret,"
       " updated_at = excluded.updated_at RETURNING site_id",
      soci::use(key), soci::use(value), soci::use(is_secret), soci::use(now), soci::use(site), soci::into(matched);
  return s.got_data();
}

bool DeleteSetting(soci::session& s, std::int64_t site_id, const std::string& key) {
  const long long site = site_id;
  long long matched = 0;
  s << "DELETE FROM site_settings WHERE site_id = :site AND key = :key RETURNING site_id", soci::use(site),
      soci::use(key), soci::into(matched);
  return s.got_data();
}

}  // namespace poste::sites::store
