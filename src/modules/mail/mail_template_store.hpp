#pragma once
// The mail_templates table: SQL and nothing else. Every function takes the site id and filters by it; it runs
// on the session of the caller's Database::Write (or Read for queries). Times are passed in (epoch ms).
#include <cstdint>
#include <optional>

#include "modules/mail/mail_template_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::template_store {

// The new id. Throws the driver's unique violation when the site already has a template of that name.
std::int64_t Insert(soci::session& s, std::int64_t site_id, const NewMailTemplate& t,
                    std::optional<std::int64_t> created_by, std::int64_t now_ms);

std::optional<MailTemplate> Get(soci::session& s, std::int64_t site_id, std::int64_t id);

MailTemplatePage List(soci::session& s, std::int64_t site_id, const MailTemplateFilter& filter);

// Writes every field of `t` but the ids and creation; false when there is no such template on the site.
bool Update(soci::session& s, const MailTemplate& t, std::int64_t now_ms);

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id);

}  // namespace poste::mail::template_store
