#pragma once
// Per-account send limits (messages per second, per hour, per day; sliding windows) kept in the database, so
// every instance sharing it honours the same counts: the mail_send_log table, one row per message handed to
// the account, pruned past a day as sends are reserved.
#include <cstdint>

#include "modules/mail/mail_account_types.hpp"

namespace soci {
class session;
}

namespace poste::mail::limits_store {

struct Reservation {
  bool granted = false;
  std::int64_t wait_ms = 0;  // when refused: how long until every window has room again
};

// "May this account send now, else wait how long": inside the caller's Database::Write, locks the account row
// (FOR UPDATE on PostgreSQL; SQLite's single writer serialises), prunes old rows, and when every window has
// room records a send at now_ms (granted). Check and reservation are one transaction: two instances cannot
// both take the last slot. An account without limits is always granted and nothing is recorded.
Reservation Reserve(soci::session& s, std::int64_t site_id, std::int64_t account_id, const Limits& limits,
                    std::int64_t now_ms);

// Sends recorded for the account in (now_ms - window_ms, now_ms].
std::int64_t CountSince(soci::session& s, std::int64_t account_id, std::int64_t window_ms, std::int64_t now_ms);

}  // namespace poste::mail::limits_store
