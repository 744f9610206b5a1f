#include "modules/mail/mail_signature_store.hpp"

#include <soci/soci.h>

namespace poste::mail::signature_store {

std::optional<MailSignature> Get(soci::session& s, std::int64_t site_id, std::int64_t user_id) {
  const long long site = site_id, user = user_id;
  long long created = 0, updated = 0;
  MailSignature out;
  s << "SELECT html, text_body, created_at, updated_at FROM mail_signatures WHERE site_id = :site AND user_id = :user",
      soci::use(site), soci::use(user), soci::into(out.html), soci::into(out.text), soci::into(created),
      soci::into(updated);
  if (!s.got_data()) return std::nullopt;
  out.site_id = site_id, out.user_id = user_id, out.created_at = created, out.updated_at = updated;
  return out;
}

void Put(soci::session& s, std::int64_t site_id, std::int64_t user_id, const SignatureInput& input,
         std::int64_t now_ms) {
  const long long site = site_id, user = user_id, now = now_ms;
  s << "INSERT INTO mail_signatures (site_id, user_id, html, text_body, created_at, updated_at)"
       " VALUES (:site, :user, :html, :text, :created, :updated)"
       " ON CONFLICT (site_id, user_id) DO UPDATE SET html = excluded.html, text_body = excluded.text_body,"
       " updated_at = excluded.updated_at",
      soci::use(site), soci::use(user), soci::use(input.html), soci::use(input.text), soci::use(now), soci::use(now);
}

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t user_id) {
  const long long site = site_id, user = user_id;
  long long matched = 0;
  s << "DELETE FROM mail_signatures WHERE site_id = :site AND user_id = :user RETURNING user_id", soci::use(site),
      soci::use(user), soci::into(matched);
  return s.got_data();
}

}  // namespace poste::mail::signature_store
