// The permission table of DKIM keys (issue 5), with the real authentication, on SQLite and PostgreSQL
// (harness: permission_table.hpp). Keys sign as the site's domains: only admins list, read, generate,
// enable / disable and delete them; a site out of reach answers 404 before 403, as does another site's key.
#include <gtest/gtest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "permission_table.hpp"

namespace poste::testing {
namespace {

class PermissionsMailDkimApi : public PermissionTable {
 protected:
  void SetUp() override {
    PermissionTable::SetUp();
    ASSERT_FALSE(HasFatalFailure());
    key_a_ = AddKey("alpha");
  }

  std::int64_t AddKey(const std::string& site) {
    auto r = Call("POST", "/api/v1/sites/" + site + "/mail/dkim", callers_[kAdmin],
                  R"({"domain":")" + site + R"(.example","selector":"s)" + std::to_string(++keys_) + R"("})");
    EXPECT_EQ(r.status, 201) << r.body;
    return r.status == 201 ? nlohmann::json::parse(r.body)["id"].get<std::int64_t>() : 0;
  }

  std::string ExpandMore(std::string s, int /*caller*/) override {
    Replace(s, "{key_a}", std::to_string(key_a_));
    if (s.find("{fresh_key_a}") != std::string::npos) Replace(s, "{fresh_key_a}", std::to_string(AddKey("alpha")));
    if (s.find("{fresh_key_b}") != std::string::npos) Replace(s, "{fresh_key_b}", std::to_string(AddKey("beta")));
    return s;
  }

  std::int64_t key_a_ = 0;
  int keys_ = 0;
};

std::vector<Row> Table() {
  const std::string a = "/api/v1/sites/alpha/mail/dkim", b = "/api/v1/sites/beta/mail/dkim";
  const std::string key = R"({"domain":"mail{n}.example","selector":"s{n}"})";
  // clang-format off
  //                                                                            anon  edA  edB  admin inact exp  tamp none revok keyA adminKeyB
  return {
      {"GET", a, "",                                                             {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"GET", b, "",                                                             {401, 404, 403, 200, B,   B,   B,   B,   B,    404, 200}},
      {"POST", a, key,                                                           {401, 403, 404, 201, B,   B,   B,   B,   B,    403, 404}},
      {"POST", b, key,                                                           {401, 404, 403, 201, B,   B,   B,   B,   B,    404, 201}},
      {"POST", a, R"({"domain":"not a domain"})",                                {401, 403, 404, 422, B,   B,   B,   B,   B,    403, 404}},
      {"GET", a + "/{key_a}", "",                                                {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"GET", b + "/{key_a}", "",                                                {401, 404, 403, 404, B,   B,   B,   B,   B,    404, 404}},
      {"GET", a + "/999999", "",                                                 {401, 403, 404, 404, B,   B,   B,   B,   B,    403, 404}},
      {"PATCH", a + "/{key_a}", R"({"enabled":true})",                           {401, 403, 404, 200, B,   B,   B,   B,   B,    403, 404}},
      {"PATCH", b + "/{fresh_key_b}", R"({"enabled":false})",                    {401, 404, 403, 200, B,   B,   B,   B,   B,    404, 200}},
      {"PATCH", a + "/{key_a}", R"({"enabled":1})",                              {401, 403, 404, 422, B,   B,   B,   B,   B,    403, 404}},
      {"PATCH", b + "/{key_a}", R"({"enabled":false})",                          {401, 404, 403, 404, B,   B,   B,   B,   B,    404, 404}},
      {"DELETE", a + "/{fresh_key_a}", "",                                       {401, 403, 404, 204, B,   B,   B,   B,   B,    403, 404}},
      {"DELETE", b + "/{fresh_key_b}", "",                                       {401, 404, 403, 204, B,   B,   B,   B,   B,    404, 204}},
      {"DELETE", b + "/{key_a}", "",                                             {401, 404, 403, 404, B,   B,   B,   B,   B,    404, 404}},
  };
  // clang-format on
}

TEST_P(PermissionsMailDkimApi, EveryDkimRouteForEveryCaller) {
  auto failures = RunTable(Table());
  for (const auto& f : failures) ADD_FAILURE() << "cell: " << f;
  std::printf("permission table: %d cells, %zu failing\n", cells_, failures.size());
  EXPECT_GT(cells_, 150);
}

TEST_P(PermissionsMailDkimApi, EveryDocumentedDkimRouteHasRows) {
  ExpectEveryDocumentedRouteHasRows(Table(), {"/api/v1/sites/{site}/mail/dkim"});
}

POSTE_INSTANTIATE_DB_TEST(PermissionsMailDkimApi);

}  // namespace
}  // namespace poste::testing
