// The permission table of the media library (issue 4), with the real authentication, on SQLite and PostgreSQL
// (harness: permission_table.hpp). The site's editors and the admins manage a site's media; the stored files
// at /media/{site_id}/{file} are public, whatever credential comes with the request.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "permission_table.hpp"

namespace poste::testing {
namespace {

class PermissionsMediaApi : public PermissionTable {
 protected:
  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    auto seeded = Upload("seed.pdf");
    media_a_ = seeded["id"].get<std::int64_t>();
    const std::string url = seeded["url"];
    file_a_ = url.substr(url.rfind('/') + 1);
  }

  // A fresh PDF on site alpha, uploaded by the admin.
  nlohmann::json Upload(const std::string& name) {
    auto r = Call("POST", "/api/v1/sites/alpha/media?filename=" + name, callers_[kAdmin],
                  "%PDF-1.4\n% " + std::to_string(++counter_) + "\n%%EOF\n");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? nlohmann::json::parse(r.body) : nlohmann::json{{"id", 0}, {"url", "/media/0/none"}};
  }

  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{media_a}", std::to_string(media_a_));
    Replace(s, "{file_a}", file_a_);
    Replace(s, "{site_a}", std::to_string(site_a_));
    if (s.find("{fresh_a}") != std::string::npos) {
      Replace(s, "{fresh_a}", std::to_string(Upload("fresh.pdf")["id"].get<std::int64_t>()));
    }
    return s;
  }

  std::int64_t media_a_ = 0;
  std::string file_a_;
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha/media", b = "/api/v1/sites/beta/media";
  const std::string pdf = "%PDF-1.4\n% {n}\n%%EOF\n";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      // Uploads: a new PDF per cell ({n}), so each is created (201).
      {"POST", a + "?filename=f{n}.pdf", pdf,                                    {401, 201, 404, 201, B,   B,   B,   B,   B,    201, 404}},
      {"POST", b + "?filename=f{n}.pdf", pdf,                                    {401, 404, 201, 201, B,   B,   B,   B,   B,    404, 201}},
      {"GET", a, "",                                                             {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "?type=image&limit=5", "",                                     {401, 404, 200, 200, B,   B,   B,   B,   B,    404, 200}},
      {"GET", a + "/{media_a}", "",                                              {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"GET", b + "/{media_a}", "",                                              {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/99999", "",                                                  {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"PATCH", a + "/{media_a}", R"({"alt":"alt {n}"})",                        {401, 200, 404, 200, B,   B,   B,   B,   B,    200, 404}},
      {"PATCH", b + "/{media_a}", R"({"alt":"alt {n}"})",                        {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      {"DELETE", a + "/{fresh_a}", "",                                           {401, 204, 404, 204, B,   B,   B,   B,   B,    204, 404}},
      {"DELETE", b + "/{fresh_a}", "",                                           {401, 404, 404, 404, B,   B,   B,   B,   B,    404, 404}},
      // The files are public: a credential, good or bad, changes nothing.
      {"GET", "/media/{site_a}/{file_a}", "",                                                {200, 200, 200, 200, 200, 200, 200, 200, 200,  200, 200}},
      {"GET", "/media/99999/1-00000000000000000000000000000000.pdf", "",         {404, 404, 404, 404, 404, 404, 404, 404, 404,  404, 404}},
  };
  // clang-format on
}

TEST_P(PermissionsMediaApi, EveryMediaRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("media permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 130);
}

TEST_P(PermissionsMediaApi, EveryDocumentedMediaRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(Table(), {"/api/v1/sites/{site}/media", "/media/"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsMediaApi);

}  // namespace
}  // namespace poste::testing
