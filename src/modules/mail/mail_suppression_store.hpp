#pragma once
// The mail_suppressions table: SQL and nothing else, scoped by site. Addresses come in their normal form
// (SuppressionAddress). Times are passed in (epoch ms).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "modules/mail/mail_suppression_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::suppression_store {

// Inserts `entry` (its id and times ignored) unless the site already lists the address; the new id, or
// nullopt when the address was already there (the row is then left as it was).
std::optional<std::int64_t> InsertIfAbsent(soci::session& s, const Suppression& entry, std::int64_t now_ms);

std::optional<Suppression> Get(soci::session& s, std::int64_t site_id, std::int64_t id);
std::optional<Suppression> GetByEmail(soci::session& s, std::int64_t site_id, const std::string& email);

// Whether the site lists the address (one look-up of the unique index).
bool Contains(soci::session& s, std::int64_t site_id, const std::string& email);
// Those of `emails` the site lists (as given), in no particular order.
std::vector<std::string> ContainedAmong(soci::session& s, std::int64_t site_id, const std::vector<std::string>& emails);

SuppressionPage List(soci::session& s, std::int64_t site_id, const SuppressionFilter& filter);

// Replaces the reason and what came with it, provided the row still has the reason `expected` (so that two
// concurrent reports cannot leave the weaker one); false when it has not (or there is no such row).
bool Replace(soci::session& s, const Suppression& entry, SuppressionReason expected, std::int64_t now_ms);

bool Delete(soci::session& s, std::int64_t site_id, std::int64_t id);

}  // namespace poste::mail::suppression_store
