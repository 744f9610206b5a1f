// The permission table of SEO, the dashboard and the public read API (issue 4), with the real authentication,
// on SQLite and PostgreSQL (harness: permission_table.hpp). SEO and the dashboard are open to the site's editors
// and the admins (a site out of reach is 404); the public routes answer everyone alike, whatever credentials
// come with the request (they read none).
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "permission_table.hpp"

namespace poste::testing {
namespace {

class PermissionsPublicApi : public PermissionTable {
 protected:
  void SetUp() override {
    PermissionTable::SetUp();
    if (HasFatalFailure()) return;
    for (const char* site : {"alpha", "beta"}) {
      auto r = Call("POST", std::string("/api/v1/sites/") + site + "/collections", callers_[kAdmin],
                    R"({"preset":"formations"})");
      ASSERT_EQ(r.status, 201) << r.body;
      r = Call("POST", std::string("/api/v1/sites/") + site + "/collections/formations/entries", callers_[kAdmin],
               R"({"status":"published","data":{"title":"Cours","status":"active"}})");
      ASSERT_EQ(r.status, 201) << r.body;
      entry_[site] = std::to_string(nlohmann::json::parse(r.body)["id"].get<std::int64_t>());
    }
  }

  // {entry_a} / {entry_b}: the published entry of alpha / beta. {about_a} / {about_b}: "about", after the admin
  // saved SEO for it (so that each DELETE cell finds one).
  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{entry_a}", entry_["alpha"]);
    Replace(s, "{entry_b}", entry_["beta"]);
    for (const char* site : {"alpha", "beta"}) {
      const std::string mark = std::string("{about_") + site[0] + "}";
      if (s.find(mark) == std::string::npos) continue;
      auto r =
          Call("PUT", std::string("/api/v1/sites/") + site + "/seo/about", callers_[kAdmin], R"({"title":"About"})");
      EXPECT_EQ(r.status, 200) << r.body;
      Replace(s, mark, "about");
    }
    return s;
  }

  std::map<std::string, std::string> entry_;
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha", b = "/api/v1/sites/beta";
  const std::string pa = "/api/v1/public/sites/alpha", pb = "/api/v1/public/sites/beta";
  const std::string page = R"({"title":"T {n}","description":"D"})";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      // SEO: the site's editors and the admins.
      {"GET", a + "/seo", "",                                                   {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/seo", "",                                                   {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", "/api/v1/sites/nope/seo", "",                                     {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/seo/home", "",                                              {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", a + "/seo/entry:formations%2F{entry_a}", "",                      {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      // Another site's entry under this site is not found, even for the admin.
      {"GET", a + "/seo/entry:formations%2F{entry_b}", "",                      {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/seo/nonsense", "",                                          {401, 400, 404, 400, B,   B,   B,   B,   B,    400, 404}},
      {"PUT", a + "/seo/home", page,                                            {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PUT", b + "/seo/collection:formations", page,                           {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PUT", a + "/seo/entry:formations%2F{entry_a}", page,                    {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"DELETE", a + "/seo/{about_a}", "",                                      {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", b + "/seo/{about_b}", "",                                      {401, 404, 204, 204, B,   B,   B,   B,   B,    404, 204}},
      {"GET", a + "/seo-defaults", "",                                          {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PUT", a + "/seo-defaults", R"({"title_template":"%s | Alpha {n}"})",     {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PUT", b + "/seo-defaults", R"({"title_template":"%s | Beta {n}"})",      {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},

      // The dashboard: the site's editors and the admins.
      {"GET", a + "/dashboard", "",                                             {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/dashboard", "",                                             {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", "/api/v1/sites/99999/dashboard", "",                              {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},

      // The public read API: everyone alike; credentials are not read.
      {"GET", pa + "/settings", "",                                             {200, 200, 200, 200, 200, 200, 200, 200, 200,  200, 200}},
      {"GET", pb + "/settings", "",                                             {200, 200, 200, 200, 200, 200, 200, 200, 200,  200, 200}},
      {"GET", "/api/v1/public/sites/nope/settings", "",                         {404, 404, 404, 404, 404, 404, 404, 404, 404,  404, 404}},
      {"OPTIONS", pa + "/settings", "",                                         {204, 204, 204, 204, 204, 204, 204, 204, 204,  204, 204}},
      {"GET", pa + "/seo/home", "",                                             {200, 200, 200, 200, 200, 200, 200, 200, 200,  200, 200}},
      {"GET", pa + "/seo/entry:formations%2F{entry_a}", "",                     {200, 200, 200, 200, 200, 200, 200, 200, 200,  200, 200}},
      {"GET", pa + "/seo/entry:formations%2F{entry_b}", "",                     {404, 404, 404, 404, 404, 404, 404, 404, 404,  404, 404}},
      {"OPTIONS", pa + "/seo/home", "",                                         {204, 204, 204, 204, 204, 204, 204, 204, 204,  204, 204}},
      {"GET", pa + "/seo.json", "",                                             {200, 200, 200, 200, 200, 200, 200, 200, 200,  200, 200}},
      {"OPTIONS", pa + "/seo.json", "",                                         {204, 204, 204, 204, 204, 204, 204, 204, 204,  204, 204}},
      {"GET", pa + "/collections/formations/entries", "",                       {200, 200, 200, 200, 200, 200, 200, 200, 200,  200, 200}},
      {"GET", pa + "/collections/nope/entries", "",                             {404, 404, 404, 404, 404, 404, 404, 404, 404,  404, 404}},
      {"OPTIONS", pa + "/collections/formations/entries", "",                   {204, 204, 204, 204, 204, 204, 204, 204, 204,  204, 204}},
      {"GET", pa + "/collections/formations/entries/{entry_a}", "",             {200, 200, 200, 200, 200, 200, 200, 200, 200,  200, 200}},
      {"GET", pa + "/collections/formations/entries/{entry_b}", "",             {404, 404, 404, 404, 404, 404, 404, 404, 404,  404, 404}},
      {"OPTIONS", pa + "/collections/formations/entries/{entry_a}", "",         {204, 204, 204, 204, 204, 204, 204, 204, 204,  204, 204}},
  };
  // clang-format on
}

TEST_P(PermissionsPublicApi, EverySeoDashboardAndPublicRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 300);
}

// A documented route of these prefixes without a row in the table fails here.
TEST_P(PermissionsPublicApi, EveryDocumentedRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(
      Table(), {"/api/v1/sites/{site}/seo", "/api/v1/sites/{site}/dashboard", "/api/v1/public/sites/{site}/settings",
                "/api/v1/public/sites/{site}/seo", "/api/v1/public/sites/{site}/collections"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsPublicApi);

}  // namespace
}  // namespace poste::testing
