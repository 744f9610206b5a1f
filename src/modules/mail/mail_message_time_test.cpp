#include "modules/mail/mail_message_time.hpp"

#include <gtest/gtest.h>

namespace poste::mail {
namespace {

std::int64_t Ms(int y, int mo, int d, int h, int mi, int s = 0) { return CivilToEpoch(y, mo, d, h, mi, s) * 1000; }

TEST(SendAt, OffsetsAndUtc) {
  std::string why;
  EXPECT_EQ(ParseSendAt("2026-12-01T09:30:00+01:00", "UTC", &why), Ms(2026, 12, 1, 8, 30));
  EXPECT_EQ(ParseSendAt("2026-12-01T09:30:00Z", "Europe/Paris", &why), Ms(2026, 12, 1, 9, 30));
  EXPECT_EQ(ParseSendAt("2026-12-01T09:30:00.250-05:30", "UTC", &why), Ms(2026, 12, 1, 15, 0));
  EXPECT_EQ(ParseSendAt("2026-12-01 09:30+0200", "UTC", &why), Ms(2026, 12, 1, 7, 30));
  EXPECT_EQ(CivilToEpoch(1970, 1, 1, 0, 0, 0), 0);
  EXPECT_EQ(CivilToEpoch(2000, 3, 1, 0, 0, 0), 951868800);
}

TEST(SendAt, LocalTimeInTheSitesZone) {
  std::string why;
  // Paris is UTC+1 in winter, UTC+2 in summer.
  EXPECT_EQ(ParseSendAt("2026-12-01T09:30", "Europe/Paris", &why), Ms(2026, 12, 1, 8, 30)) << why;
  EXPECT_EQ(ParseSendAt("2026-07-01T09:30:00", "Europe/Paris", &why), Ms(2026, 7, 1, 7, 30)) << why;
  EXPECT_EQ(ParseSendAt("2026-07-01T09:30:00", "America/New_York", &why), Ms(2026, 7, 1, 13, 30)) << why;
  EXPECT_EQ(ParseSendAt("2026-07-01T09:30:00", "UTC", &why), Ms(2026, 7, 1, 9, 30)) << why;
  // 02:30 on the spring-forward night does not exist in Paris: read with the offset before the change.
  EXPECT_EQ(ParseSendAt("2026-03-29T02:30", "Europe/Paris", &why), Ms(2026, 3, 29, 1, 30)) << why;
  EXPECT_EQ(ZoneOffset("Europe/Paris", CivilToEpoch(2026, 1, 15, 12, 0, 0)), 3600);
  EXPECT_EQ(ZoneOffset("Asia/Kolkata", CivilToEpoch(2026, 1, 15, 12, 0, 0)), 19800);
}

TEST(SendAt, PastTheZoneFilesTransitionsTheirRuleHolds) {
  // tzdata lists transitions up to 2037; later dates follow the file's POSIX rule.
  EXPECT_EQ(ZoneOffset("America/New_York", CivilToEpoch(2099, 7, 1, 12, 0, 0)), -4 * 3600);
  EXPECT_EQ(ZoneOffset("America/New_York", CivilToEpoch(2099, 12, 1, 12, 0, 0)), -5 * 3600);
  EXPECT_EQ(ZoneOffset("Australia/Sydney", CivilToEpoch(2099, 1, 15, 12, 0, 0)), 11 * 3600);
  EXPECT_EQ(ZoneOffset("Australia/Sydney", CivilToEpoch(2099, 7, 15, 12, 0, 0)), 10 * 3600);
  EXPECT_EQ(ZoneOffset("Asia/Kolkata", CivilToEpoch(2099, 7, 15, 12, 0, 0)), 19800);
  // Europe's change is the last Sunday of March at 01:00 UTC: 2099-03-29.
  EXPECT_EQ(ZoneOffset("Europe/Paris", CivilToEpoch(2099, 3, 29, 0, 59, 0)), 3600);
  EXPECT_EQ(ZoneOffset("Europe/Paris", CivilToEpoch(2099, 3, 29, 1, 0, 0)), 7200);
  std::string why;
  EXPECT_EQ(ParseSendAt("2099-07-01T09:30", "America/New_York", &why), Ms(2099, 7, 1, 13, 30)) << why;
}

TEST(SendAt, RefusesMalformedAndHostileInput) {
  for (const char* bad : {"", "tomorrow", "2026-13-01T09:30", "2026-02-30T09:30", "2026-12-01T24:00",
                          "2026-12-01T09:30+25:00", "2026-12-01T09:30Z trailing", "2026-12-01T09:30:00\r\nX: y",
                          "2026-12-01", "1969-12-31T23:59", "2026-12-01T09:3"}) {
    std::string why;
    EXPECT_FALSE(ParseSendAt(bad, "UTC", &why).has_value()) << bad;
    EXPECT_FALSE(why.empty()) << bad;
  }
  std::string why;
  for (const char* zone : {"Nowhere/Land", "../../etc/passwd", "/etc/passwd", "Europe/../../etc/shadow", ""}) {
    EXPECT_FALSE(ParseSendAt("2026-12-01T09:30", zone, &why).has_value()) << zone;
    EXPECT_FALSE(ZoneOffset(zone, 0).has_value()) << zone;
  }
}

}  // namespace
}  // namespace poste::mail
