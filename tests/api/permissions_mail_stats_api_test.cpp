// The permission table of the sending stats (issue 5, "messages"), with the real authentication, on SQLite
// and PostgreSQL (harness: permission_table.hpp): the site's editors and the admins read a site's stats and
// a campaign's; another site's campaign is not found; bad query parameters are 400s.
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "permission_table.hpp"

namespace poste::testing {
namespace {

class PermissionsMailStatsApi : public PermissionTable {
 protected:
  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    campaign_a_ = db().WriteValue([&](soci::session& s) {
      const long long site = site_a_;
      long long id = 0;
      s << "INSERT INTO mail_campaigns (site_id, name, state, created_at, updated_at) VALUES (:site, 'C', 'draft',"
           " 1, 1) RETURNING id",
          soci::use(site), soci::into(id);
      return static_cast<std::int64_t>(id);
    });
  }
  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{campaign_a}", std::to_string(campaign_a_));
    return s;
  }
  std::int64_t campaign_a_ = 0;
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha/mail", b = "/api/v1/sites/beta/mail";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      {"GET", a + "/stats", "",                                                  {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/stats?from=2026-01-01&to=2026-01-31", "",                    {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", a + "/stats?campaign_id={campaign_a}", "",                         {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/stats?campaign_id={campaign_a}", "",                         {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/stats?from=2026-02-30", "",                                  {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"GET", a + "/stats?from=2020-01-01&to=2026-01-01", "",                    {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"GET", a + "/campaigns/{campaign_a}/stats", "",                           {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/campaigns/{campaign_a}/stats", "",                           {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/campaigns/999999/stats?from=2026-01-01", "",                 {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
  };
  // clang-format on
}

TEST_P(PermissionsMailStatsApi, EveryStatsRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 80);
}

TEST_P(PermissionsMailStatsApi, EveryDocumentedStatsRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(
      Table(), {"/api/v1/sites/{site}/mail/stats", "/api/v1/sites/{site}/mail/campaigns/{id}/stats"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsMailStatsApi);

}  // namespace
}  // namespace poste::testing
