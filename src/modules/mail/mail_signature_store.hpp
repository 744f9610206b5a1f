#pragma once
// The mail_signatures table: SQL and nothing else, scoped by site and user. Times are passed in (epoch ms).
#include <cstdint>
#include <optional>

#include "modules/mail/mail_signature_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::signature_store {

std::optional<MailSignature> Get(soci::session& s, std::int64_t site_id, std::int64_t user_id);

// Inserts or replaces both versions (created_at kept on a replace).
void Put(soci::session& s, std::int64_t site_id, std::int64_t user_id, const SignatureInput& input,
         std::int64_t now_ms);

// Whether there was one.
bool Delete(soci::session& s, std::int64_t site_id, std::int64_t user_id);

}  // namespace poste::mail::signature_store
