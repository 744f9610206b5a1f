#include "modules/mail/mail_template_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <string>

#include "db/dialect.hpp"
#include "db/like.hpp"
#include "db/query.hpp"

namespace poste::mail::template_store {

namespace {

using db::Query;

constexpr const char* kColumns =
    "id, site_id, name, description, subject, html, text_body, created_by, created_at, updated_at";

struct Row {
  long long id = 0, site_id = 0, created_by = 0, created_at = 0, updated_at = 0;
  soci::indicator created_by_ind = soci::i_null;
  MailTemplate t;

  void BindTo(Query& q) {
    q.Into(id);
    q.Into(site_id);
    q.Into(t.name);
    q.Into(t.description);
    q.Into(t.subject);
    q.Into(t.html);
    q.Into(t.text);
    q.Into(created_by, created_by_ind);
    q.Into(created_at);
    q.Into(updated_at);
  }
  MailTemplate Get() const {
    MailTemplate out = t;
    out.id = id, out.site_id = site_id, out.created_at = created_at, out.updated_at = updated_at;
    if (created_by_ind == soci::i_ok) out.created_by = created_by;
    return out;
  }
};

}  // namespace

std::int64_t Insert(soci::session& s, std::int64_t site_id, const NewMailTemplate& t,
                    std::optional<std::int64_t> created_by, std::int64_t now_ms) {
  Query q(s);
  long long id = 0;
  q.Into(id);
  q.Execute(
      "INSERT INTO mail_templates (site_id, name, description, subject, html, text_body, created_by,"
      " created_at, updated_at) VALUES (" +
      q.Int(site_id) + ", " + q.Text(t.name) + ", " + q.Text(t.description) + ", " + q.Text(t.subject) + ", " +
      q.Text(t.html) + ", " + q.Text(t.text) + ", " + q.Int(created_by) + ", " + q.Int(now_ms) + ", " + q.Int(now_ms) +
      ") RETURNING id");
  return id;
}

std::optional<MailTemplate> Get(soci::session& s, std::int64_t site_id, std::int64_t id) {
  Query q(s);
  Row row;
  row.BindTo(q);
  if (!q.Execute("SELECT " + std::string(kColumns) + " FROM mail_templates WHERE site_id = " + q.Int(site_id) +
                 " AND id = " + q.Int(id))) {
    return std::nullopt;
  }
  return row.Get();
}

MailTemplatePage List(soci::session& s, std::int64_t site_id, const MailTemplateFilter& f) {
  const int limit = std::clamp(f.limit, 1, kMaxTemplateListLimit);
  Query q(s);
  Row row;
  row.BindTo(q);
  std::string sql = "SELECT " + std::string(kColumns) + " FROM mail_templates WHERE site_id = " + q.Int(site_id);
  if (!f.q.empty()) {
    sql += " AND name " + std::string(db::CaseInsensitiveLike(db::DialectOf(s))) + " " +
           q.Text(db::ContainsPattern(f.q)) + " ESCAPE '\\'";
  }
  return db::NewestFirst<MailTemplatePage>(q, std::move(sql), f.cursor, limit, [&] { return row.Get(); });
}

bool Update(soci::session& s, const MailTemplate& t, std::int64_t now_ms) {
  Query q(s);
  long long matched = 0;
  q.Into(matched);
  return q.Execute("UPDATE mail_templates SET name = " + q.Text(t.name) + ", description = " + q.Text(t.description) +
                   ", subject = " + q.Text(t.subject) + ", html = " + q.Text(t.html) +
                   ", text_body = " + q.Text(t.text) + ", updated_at = " + q.Int(now_ms) +
                   " WHERE site_id = " + q.Int(t.site_id) + " AND id = " + q.Int(t.id) + " RETURNING id");
}

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id) {
  const long long site = site_id, template_id = id;
  long long matched = 0;
  s << "DELETE FROM mail_templates WHERE site_id = :site AND id = :id RETURNING id", soci::use(site),
      soci::use(template_id), soci::into(matched);
  return s.got_data();
}

}  // namespace poste::mail::template_store
