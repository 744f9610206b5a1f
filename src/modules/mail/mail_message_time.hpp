#pragma once
// When a scheduled message goes: `send_at` as ISO 8601 with an offset ("2026-12-01T09:30:00+01:00",
// "...Z"), or a local time without one ("2026-12-01T09:30" or with seconds) read in the site's time zone
// (its IANA name, e.g. Europe/Paris, from the system's zoneinfo files).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace poste::mail {

// Epoch ms, or nullopt with the reason in `why` (malformed text, impossible date, unknown zone).
std::optional<std::int64_t> ParseSendAt(std::string_view text, std::string_view timezone, std::string* why);

// The zone's offset from UTC (seconds east) at `utc_seconds`, from /usr/share/zoneinfo/<timezone> (TZif);
// nullopt when the zone is unknown. Past the file's last transition the last offset holds.
std::optional<std::int64_t> ZoneOffset(std::string_view timezone, std::int64_t utc_seconds);

// Seconds since the epoch of a civil date and time taken as UTC (no range checks).
std::int64_t CivilToEpoch(int year, int month, int day, int hour, int minute, int second);

}  // namespace poste::mail
