#include "modules/mail/mail_limits_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <array>
#include <utility>

#include "modules/mail/mail_account_store.hpp"

namespace poste::mail::limits_store {

namespace {

constexpr std::int64_t kSecond = 1000, kHour = 3'600'000, kDay = 86'400'000;

// The time the limit-th newest send of the window was recorded, when the window is full: one indexed row
// (OFFSET limit - 1), not the window's rows (a day's limit may be tens of thousands).
std::optional<std::int64_t> FullSince(soci::session& s, std::int64_t account_id, std::int64_t window_ms,
                                      std::int64_t limit, std::int64_t now_ms) {
  const long long account = account_id, since = now_ms - window_ms, offset = limit - 1;
  long long at = 0;
  soci::indicator ind = soci::i_null;
  s << "SELECT sent_at FROM mail_send_log WHERE account_id = :account AND sent_at > :since"
       " ORDER BY sent_at DESC LIMIT 1 OFFSET :offset",
      soci::use(account), soci::use(since), soci::use(offset), soci::into(at, ind);
  if (!s.got_data() || ind != soci::i_ok) return std::nullopt;
  return at;
}

}  // namespace

Reservation Reserve(soci::session& s, std::int64_t site_id, std::int64_t account_id, const Limits& limits,
                    std::int64_t now_ms) {
  if (!limits.Any()) return {true, 0};
  if (!account_store::GetForUpdate(s, site_id, account_id)) return {true, 0};  // gone: nothing to count
  const long long account = account_id, cutoff = now_ms - kDay;
  s << "DELETE FROM mail_send_log WHERE account_id = :account AND sent_at <= :cutoff", soci::use(account),
      soci::use(cutoff);
  std::int64_t wait = 0;
  const std::array<std::pair<std::int64_t, std::int64_t>, 3> windows = {
      {{kSecond, limits.per_second}, {kHour, limits.per_hour}, {kDay, limits.per_day}}};
  for (const auto& [window, limit] : windows) {
    if (limit <= 0) continue;
    if (auto since = FullSince(s, account_id, window, limit, now_ms)) {
      wait = std::max(wait, *since + window - now_ms);
    }
  }
  if (wait > 0) return {false, wait};
  const long long now = now_ms;
  s << "INSERT INTO mail_send_log (account_id, sent_at) VALUES (:account, :now)", soci::use(account), soci::use(now);
  return {true, 0};
}

std::int64_t CountSince(soci::session& s, std::int64_t account_id, std::int64_t window_ms, std::int64_t now_ms) {
  const long long account = account_id, since = now_ms - window_ms;
  long long n = 0;
  s << "SELECT COUNT(*) FROM mail_send_log WHERE account_id = :account AND sent_at > :since", soci::use(account),
      soci::use(since), soci::into(n);
  return n;
}

}  // namespace poste::mail::limits_store
