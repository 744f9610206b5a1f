#include "modules/mail/mail_message_time.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <vector>

namespace poste::mail {

namespace {

// A POSIX TZ rule (the TZif footer, e.g. "CET-1CEST,M3.5.0,M10.5.0/3"): the offsets after the last
// transition of the file. Only the M month.week.day form of the DST dates is read (what tzdata writes).
struct Rule {
  std::int64_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  std::int64_t dst_offset = 0;
  int start_month = 0, start_week = 0, start_day = 0, end_month = 0, end_week = 0, end_day = 0;
  std::int64_t start_time = 7200, end_time = 7200;  // local seconds after midnight
};

struct Zone {
  std::vector<std::int64_t> transitions;  // UTC seconds, ascending
  std::vector<std::uint8_t> types;        // index into offsets, per transition
  std::vector<std::int64_t> offsets;      // seconds east of UTC, per local time type
  std::optional<Rule> footer;
};

// [+-]hh[:mm[:ss]] as seconds; advances `at`.
std::optional<std::int64_t> PosixTime(std::string_view s, std::size_t& at) {
  int sign = 1;
  if (at < s.size() && (s[at] == '+' || s[at] == '-')) sign = s[at++] == '-' ? -1 : 1;
  std::int64_t total = 0;
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (at >= s.size() || s[at] != ':') break;
      ++at;
    }
    std::size_t digits = 0;
    std::int64_t v = 0;
    while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at])) && digits < 3) {
      v = v * 10 + (s[at++] - '0');
      ++digits;
    }
    if (digits == 0) return std::nullopt;
    total += v * (part == 0 ? 3600 : part == 1 ? 60 : 1);
  }
  return sign * total;
}

bool PosixName(std::string_view s, std::size_t& at) {
  const std::size_t start = at;
  if (at < s.size() && s[at] == '<') {
    at = s.find('>', at);
    if (at == std::string_view::npos) return false;
    ++at;
    return true;
  }
  while (at < s.size() && std::isalpha(static_cast<unsigned char>(s[at]))) ++at;
  return at - start >= 3;
}

bool PosixDate(std::string_view s, std::size_t& at, int& month, int& week, int& day, std::int64_t& time) {
  if (at >= s.size() || s[at] != 'M') return false;
  ++at;
  int* fields[] = {&month, &week, &day};
  for (int i = 0; i < 3; ++i) {
    if (i > 0 && (at >= s.size() || s[at++] != '.')) return false;
    int v = 0, digits = 0;
    while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at])) && digits < 2)
      v = v * 10 + (s[at++] - '0'), ++digits;
    if (digits == 0) return false;
    *fields[i] = v;
  }
  if (month < 1 || month > 12 || week < 1 || week > 5 || day > 6) return false;
  if (at < s.size() && s[at] == '/') {
    ++at;
    auto t = PosixTime(s, at);
    if (!t) return false;
    time = *t;
  }
  return true;
}

std::optional<Rule> ParseRule(std::string_view s) {
  Rule r;
  std::size_t at = 0;
  if (!PosixName(s, at)) return std::nullopt;
  auto std_west = PosixTime(s, at);
  if (!std_west) return std::nullopt;
  r.std_offset = -*std_west;
  if (at == s.size()) return r;
  if (!PosixName(s, at)) return std::nullopt;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (at < s.size() && s[at] != ',') {
    auto dst_west = PosixTime(s, at);
    if (!dst_west) return std::nullopt;
    r.dst_offset = -*dst_west;
  }
  if (at >= s.size() || s[at++] != ',' || !PosixDate(s, at, r.start_month, r.start_week, r.start_day, r.start_time) ||
      at >= s.size() || s[at++] != ',' || !PosixDate(s, at, r.end_month, r.end_week, r.end_day, r.end_time) ||
      at != s.size()) {
    return std::nullopt;
  }
  return r;
}

std::int64_t BigEndian(const std::string& b, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(b[at + i]);
  if (bytes == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

// RFC 8536: the version 2+ block (64-bit times) when present, else version 1.
std::optional<Zone> ParseTzif(const std::string& b) {
  auto header = [&](std::size_t at, std::size_t(&counts)[6]) {
    if (b.size() < at + 44 || b.compare(at, 4, "TZif") != 0) return false;
    for (int i = 0; i < 6; ++i) counts[i] = static_cast<std::size_t>(BigEndian(b, at + 20 + 4 * i, 4));
    return true;
  };
  std::size_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(0, c)) return std::nullopt;
  std::size_t at = 44;
  int time_bytes = 4;
  if (b[4] >= '2') {
    at += c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (!header(at, c)) return std::nullopt;
    at += 44;
    time_bytes = 8;
  }
  const std::size_t need = c[3] * time_bytes + c[3] + c[4] * 6;
  if (c[4] == 0 || b.size() < at + need) return std::nullopt;
  Zone z;
  for (std::size_t i = 0; i < c[3]; ++i) z.transitions.push_back(BigEndian(b, at + i * time_bytes, time_bytes));
  at += c[3] * time_bytes;
  for (std::size_t i = 0; i < c[3]; ++i) z.types.push_back(static_cast<std::uint8_t>(b[at + i]));
  at += c[3];
  for (std::size_t i = 0; i < c[4]; ++i) z.offsets.push_back(BigEndian(b, at + i * 6, 4));
  for (auto t : z.types) {
    if (t >= z.offsets.size()) return std::nullopt;
  }
  if (time_bytes == 8) {
    at += c[4] * 6 + c[5] + c[2] * 12 + c[1] + c[0];
    if (at < b.size() && b[at] == '\n') {
      const auto end = b.find('\n', at + 1);
      if (end != std::string::npos) z.footer = ParseRule(std::string_view(b).substr(at + 1, end - at - 1));
    }
  }
  return z;
}

bool IsZoneName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.find("..") != std::string_view::npos) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '/' || ch == '+' || ch == '-';
  });
}

std::optional<Zone> LoadZone(std::string_view name) {
  static std::mutex mu;
  static std::map<std::string, std::optional<Zone>, std::less<>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(name); it != cache.end()) return it->second;
  std::optional<Zone> zone;
  if (IsZoneName(name)) {
    std::ifstream in("/usr/share/zoneinfo/" + std::string(name), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.good() || in.eof()) zone = ParseTzif(bytes);
  }
  if (cache.size() < 1000) cache.emplace(std::string(name), zone);
  return zone;
}

bool Digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  out = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

int DaysIn(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Day of the month of the w-th (5: last) weekday d (0 Sunday) of the month.
int NthWeekday(int year, int month, int week, int day) {
  const std::int64_t first = CivilToEpoch(year, month, 1, 0, 0, 0) / 86400;
  const int weekday = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  int dom = 1 + (day - weekday + 7) % 7 + (week - 1) * 7;
  while (dom > DaysIn(year, month)) dom -= 7;
  return dom;
}

std::int64_t RuleOffset(const Rule& r, std::int64_t utc) {
  if (!r.has_dst) return r.std_offset;
  const std::int64_t days = utc / 86400 - (utc % 86400 < 0 ? 1 : 0);
  // The civil year of `utc` (Hinnant's civil_from_days, year only).
  const std::int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const int year = static_cast<int>(yoe + era * 400 + (mp >= 10 ? 1 : 0));
  const std::int64_t start =
      CivilToEpoch(year, r.start_month, NthWeekday(year, r.start_month, r.start_week, r.start_day), 0, 0, 0) +
      r.start_time - r.std_offset;
  const std::int64_t end =
      CivilToEpoch(year, r.end_month, NthWeekday(year, r.end_month, r.end_week, r.end_day), 0, 0, 0) + r.end_time -
      r.dst_offset;
  const bool dst = start < end ? (utc >= start && utc < end) : !(utc >= end && utc < start);
  return dst ? r.dst_offset : r.std_offset;
}

}  // namespace

std::int64_t CivilToEpoch(int y, int m, int d, int hh, int mm, int ss) {
  // Howard Hinnant's days_from_civil.
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = era * 146097 + static_cast<std::int64_t>(doe) - 719468;
  return days * 86400 + hh * 3600 + mm * 60 + ss;
}

std::optional<std::int64_t> ZoneOffset(std::string_view timezone, std::int64_t utc_seconds) {
  auto zone = LoadZone(timezone);
  if (!zone) return std::nullopt;
  if (zone->transitions.empty() || utc_seconds < zone->transitions.front()) {
    // Before the first transition: the first standard-time type (RFC 8536 §3.2: type 0).
    return zone->offsets.front();
  }
  if (zone->footer && utc_seconds >= zone->transitions.back()) return RuleOffset(*zone->footer, utc_seconds);
  auto it = std::upper_bound(zone->transitions.begin(), zone->transitions.end(), utc_seconds);
  return zone->offsets[zone->types[static_cast<std::size_t>(it - zone->transitions.begin()) - 1]];
}

std::optional<std::int64_t> ParseSendAt(std::string_view s, std::string_view timezone, std::string* why) {
  auto fail = [&](std::string reason) -> std::optional<std::int64_t> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (s.size() < 16 || !Digits(s, 0, 4, y) || s[4] != '-' || !Digits(s, 5, 2, mo) || s[7] != '-' ||
      !Digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != ' ') || !Digits(s, 11, 2, h) || s[13] != ':' ||
      !Digits(s, 14, 2, mi)) {
    return fail("expected an ISO 8601 date and time such as 2026-12-01T09:30:00+01:00");
  }
  std::size_t at = 16;
  if (at < s.size() && s[at] == ':') {
    if (!Digits(s, at + 1, 2, sec)) return fail("malformed seconds");
    at += 3;
    if (at < s.size() && s[at] == '.') {  // fractions of a second are ignored
      ++at;
      while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at]))) ++at;
    }
  }
  if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > DaysIn(y, mo) || h > 23 || mi > 59 || sec > 59) {
    return fail("not a valid date and time");
  }
  const std::int64_t civil = CivilToEpoch(y, mo, d, h, mi, sec);
  if (at == s.size()) {
    // Local time in the site's zone: an offset that maps back to the same local time; of two (the hour
    // repeated when clocks go back) the earlier instant; in the hour skipped when clocks go forward, the
    // offset from before the change (02:30 becomes 03:30 of the new offset).
    auto first = ZoneOffset(timezone, civil);
    if (!first) return fail("the site's time zone " + std::string(timezone) + " is not known to this server");
    const std::int64_t second = *ZoneOffset(timezone, civil - *first);
    std::optional<std::int64_t> chosen;
    for (std::int64_t candidate : {*first, second}) {
      if (*ZoneOffset(timezone, civil - candidate) == candidate && (!chosen || candidate > *chosen)) chosen = candidate;
    }
    if (!chosen) chosen = *ZoneOffset(timezone, civil - std::max(*first, second) - 3600);
    return (civil - *chosen) * 1000;
  }
  std::int64_t offset = 0;
  if (s[at] == 'Z' || s[at] == 'z') {
    ++at;
  } else if (s[at] == '+' || s[at] == '-') {
    int oh = 0, om = 0;
    if (!Digits(s, at + 1, 2, oh)) return fail("malformed offset");
    std::size_t next = at + 3;
    if (next < s.size() && s[next] == ':') ++next;
    if (!Digits(s, next, 2, om) || oh > 23 || om > 59) return fail("malformed offset");
    offset = (oh * 3600 + om * 60) * (s[at] == '-' ? -1 : 1);
    at = next + 2;
  } else {
    return fail("unexpected text after the time");
  }
  if (at != s.size()) return fail("unexpected text after the offset");
  return (civil - offset) * 1000;
}

}  // namespace poste::mail
